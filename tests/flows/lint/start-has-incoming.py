"""Lint fixture: a step that goes back to start.

The line marked LINT is where the finding must point.
"""

from stepwell import FlowSpec, step


class StartHasIncomingFlow(FlowSpec):
    @step
    def start(self):
        self.count = 0
        self.next(self.again)

    @step
    def again(self):
        self.status = "done"
        self.next({"again": self.start, "done": self.end}, condition="status")  # LINT

    @step
    def end(self):
        pass


if __name__ == "__main__":
    StartHasIncomingFlow()
