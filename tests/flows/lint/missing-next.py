"""Lint fixture: a step that does not end with self.next.

The line marked LINT is where the finding must point.
"""

from stepwell import FlowSpec, step


class MissingNextFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.work)

    @step
    def work(self):  # LINT
        self.value = 1

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MissingNextFlow()
