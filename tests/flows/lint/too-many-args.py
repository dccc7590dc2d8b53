"""Lint fixture: a step with three arguments.

The line marked LINT is where the finding must point.
"""

from stepwell import FlowSpec, step


class TooManyArgsFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.next(self.join)

    @step
    def b(self):
        self.next(self.join)

    @step
    def join(self, inputs, extra):  # LINT
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TooManyArgsFlow()
