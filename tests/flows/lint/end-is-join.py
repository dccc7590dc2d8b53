"""Lint fixture: an end step that takes inputs.

The line marked LINT is where the finding must point.
"""

from stepwell import FlowSpec, step


class EndIsJoinFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.next(self.end)

    @step
    def b(self):
        self.next(self.end)

    @step
    def end(self, inputs):  # LINT
        pass


if __name__ == "__main__":
    EndIsJoinFlow()
