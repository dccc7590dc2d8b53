"""Lint fixture: a step named start and another marked start=True.

The line marked LINT is where the finding must point.
"""

from stepwell import FlowSpec, step


class DuplicateStartFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step(start=True)
    def begin(self):  # LINT
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    DuplicateStartFlow()
