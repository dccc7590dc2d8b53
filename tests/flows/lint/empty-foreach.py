"""Lint fixture: a foreach that goes straight into its join.

The line marked LINT is where the finding must point.
"""

from stepwell import FlowSpec, step


class EmptyForeachFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2, 3]
        self.next(self.join, foreach="items")  # LINT

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    EmptyForeachFlow()
