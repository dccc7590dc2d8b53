"""Lint fixture: a step without self.

The line marked LINT is where the finding must point.
"""

from stepwell import FlowSpec, step


class MissingSelfFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.middle)

    @step
    def middle():  # LINT
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MissingSelfFlow()
