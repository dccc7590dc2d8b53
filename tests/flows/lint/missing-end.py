"""Lint fixture: no end step.

The line marked LINT is where the finding must point.
"""

from stepwell import FlowSpec, step


class MissingEndFlow(FlowSpec):  # LINT
    @step
    def start(self):
        self.next(self.finish)

    @step
    def finish(self):
        pass


if __name__ == "__main__":
    MissingEndFlow()
