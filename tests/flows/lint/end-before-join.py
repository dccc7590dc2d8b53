"""Lint fixture: a split whose branches reach end without a join.

The line marked LINT is where the finding must point.
"""

from stepwell import FlowSpec, step


class EndBeforeJoinFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)  # LINT

    @step
    def a(self):
        self.next(self.end)

    @step
    def b(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    EndBeforeJoinFlow()
