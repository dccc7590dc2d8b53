"""Lint fixture: a flow with several independent errors; all must be reported.

Every line marked LINT carries one finding; the code is named after the marker.
"""

from stepwell import FlowSpec, step


class SeveralErrorsFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.Prepare)

    @step
    def Prepare(self):  # LINT invalid-name
        self.next(self.index)

    @step
    def index(self):  # LINT reserved-name
        self.next(self.evaluate)

    @step
    def evaluate():  # LINT missing-self
        self.next(self.ned)  # LINT unknown-step

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SeveralErrorsFlow()
