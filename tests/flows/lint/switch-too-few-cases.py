"""Lint fixture: a switch with one case.

The line marked LINT is where the finding must point.
"""

from stepwell import FlowSpec, step


class SwitchTooFewCasesFlow(FlowSpec):
    @step
    def start(self):
        self.mode = "only"
        self.next({"only": self.end}, condition="mode")  # LINT

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SwitchTooFewCasesFlow()
