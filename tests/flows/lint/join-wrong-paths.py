"""Lint fixture: a switch inside a branch whose cases do not re-converge before the join.

The line marked LINT is where the finding must point.
"""

from stepwell import FlowSpec, step


class JoinWrongPathsFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.mode = "x"
        self.next({"x": self.a_x, "y": self.a_y}, condition="mode")

    @step
    def a_x(self):
        self.next(self.join)

    @step
    def a_y(self):
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
    JoinWrongPathsFlow()
