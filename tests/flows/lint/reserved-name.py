"""Lint fixture: a step named after a FlowSpec attribute ('merge_artifacts').

The line marked LINT is where the finding must point.
"""

from stepwell import FlowSpec, step


class ReservedNameFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.merge_artifacts)

    @step
    def merge_artifacts(self):  # LINT
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ReservedNameFlow()
