"""Lint fixture: the step closing a branch forgets 'inputs'.

The line marked LINT is where the finding must point.
"""

from stepwell import FlowSpec, step


class JoinMissingInputsFlow(FlowSpec):
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
    def join(self):  # LINT
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    JoinMissingInputsFlow()
