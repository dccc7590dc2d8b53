"""Lint fixture: no start step.

The line marked LINT is where the finding must point.
"""

from stepwell import FlowSpec, step


class MissingStartFlow(FlowSpec):  # LINT
    @step
    def begin(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MissingStartFlow()
