"""Lint fixture: a switch without condition=.

The line marked LINT is where the finding must point.
"""

from stepwell import FlowSpec, step


class SwitchNoConditionFlow(FlowSpec):
    @step
    def start(self):
        self.next({"a": self.a, "b": self.b})  # LINT

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
    SwitchNoConditionFlow()
