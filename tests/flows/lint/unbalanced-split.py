"""Lint fixture: a step reached both from inside a foreach and from outside it.

The line marked LINT is where the finding must point.
"""

from stepwell import FlowSpec, step


class UnbalancedSplitFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1]
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.status = "out"
        self.next({"out": self.escape, "in": self.stay}, condition="status")

    @step
    def escape(self):
        self.next(self.after)

    @step
    def stay(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.after)

    @step
    def after(self):  # LINT
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    UnbalancedSplitFlow()
