"""Lint fixture: a join that no split precedes.

The line marked LINT is where the finding must point.
"""

from stepwell import FlowSpec, step


class JoinWithoutSplitFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.join)

    @step
    def join(self, inputs):  # LINT
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    JoinWithoutSplitFlow()
