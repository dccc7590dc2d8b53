"""Lint fixture: a transition to a misspelled step.

The line marked LINT is where the finding must point.
"""

from stepwell import FlowSpec, step


class UnknownStepFlow(FlowSpec):
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
    UnknownStepFlow()
