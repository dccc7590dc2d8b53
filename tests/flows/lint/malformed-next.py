"""Lint fixture: a foreach whose artifact name is not a literal.

The line marked LINT is where the finding must point.
"""

from stepwell import FlowSpec, step


class MalformedNextFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2]
        name = "items"
        self.next(self.body, foreach=name)  # LINT

    @step
    def body(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MalformedNextFlow()
