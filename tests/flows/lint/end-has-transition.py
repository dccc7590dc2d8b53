"""Lint fixture: an end step that calls self.next.

The line marked LINT is where the finding must point.
"""

from stepwell import FlowSpec, step


class EndHasTransitionFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        self.next(self.start)  # LINT


if __name__ == "__main__":
    EndHasTransitionFlow()
