"""Lint fixture: two steps marked end=True.

The line marked LINT is where the finding must point.
"""

from stepwell import FlowSpec, step


class DuplicateEndFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.done, self.stop)

    @step(end=True)
    def done(self):
        pass

    @step(end=True)
    def stop(self):  # LINT
        pass


if __name__ == "__main__":
    DuplicateEndFlow()
