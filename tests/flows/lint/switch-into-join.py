"""Lint fixture: a switch case that goes straight into a join.

The line marked LINT is where the finding must point.
"""

from stepwell import FlowSpec, step


class SwitchIntoJoinFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.left, self.right)

    @step
    def left(self):
        self.next(self.join)

    @step
    def right(self):
        self.mode = "x"
        self.next({"x": self.x, "y": self.join}, condition="mode")  # LINT

    @step
    def x(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SwitchIntoJoinFlow()
