"""A switch inside a switch's case, and a case going straight to where the cases meet.

start chooses 'a' (then a switch: x or y) or 'done' (straight to 'meet'); x, y and
start's 'done' case all meet at 'meet'.
"""

from stepwell import FlowSpec, Parameter, step


class NestedSwitchFlow(FlowSpec):
    route = Parameter("route", default="a")
    inner = Parameter("inner", default="x")

    @step
    def start(self):
        self.pick = self.route
        self.next({"a": self.a, "done": self.meet}, condition="pick")

    @step
    def a(self):
        self.which = self.inner
        self.next({"x": self.x, "y": self.y}, condition="which")

    @step
    def x(self):
        self.path = "x"
        self.next(self.meet)

    @step
    def y(self):
        self.path = "y"
        self.next(self.meet)

    @step
    def meet(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    NestedSwitchFlow()
