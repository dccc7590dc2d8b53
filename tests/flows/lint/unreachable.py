"""Lint fixture: a step no transition leads to.

The line marked LINT is where the finding must point.
"""

from stepwell import FlowSpec, step


class UnreachableFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def orphan(self):  # LINT
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    UnreachableFlow()
