"""Lint fixture: a join of paths from two different splits.

The line marked LINT is where the finding must point.
"""

from stepwell import FlowSpec, step


class JoinUnrelatedSplitsFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.next(self.a1, self.a2)

    @step
    def a1(self):
        self.next(self.join)

    @step
    def a2(self):
        self.next(self.join)

    @step
    def b(self):
        self.next(self.join)

    @step
    def join(self, inputs):  # LINT
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    JoinUnrelatedSplitsFlow()
