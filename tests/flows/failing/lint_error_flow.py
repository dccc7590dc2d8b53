"""A transition to a step that does not exist: `run` must refuse it before starting.

The line marked LINT is where the finding must point.
"""

from stepwell import FlowSpec, step


class LintErrorFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.trian)  # LINT

    @step
    def train(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    LintErrorFlow()
