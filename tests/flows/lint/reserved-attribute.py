"""Lint fixture: a step assigns an attribute of the flow's API (self.index).

The line marked LINT is where the finding must point.
"""

from stepwell import FlowSpec, step


class ReservedAttributeFlow(FlowSpec):
    @step
    def start(self):
        self.index = 3  # LINT
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ReservedAttributeFlow()
