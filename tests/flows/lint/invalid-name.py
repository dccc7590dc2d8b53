"""Lint fixture: a step name with capitals.

The line marked LINT is where the finding must point.
"""

from stepwell import FlowSpec, step


class InvalidNameFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.Train)

    @step
    def Train(self):  # LINT
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    InvalidNameFlow()
