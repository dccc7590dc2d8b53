"""Lint fixture: a switch inside a foreach that loops back to before the foreach.

The line marked LINT is where the finding must point.
"""

from stepwell import FlowSpec, step


class LoopCrossesSplitFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.prepare)

    @step
    def prepare(self):
        self.items = [1, 2]
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.status = "done"
        self.next({"again": self.prepare, "done": self.after_body}, condition="status")  # LINT

    @step
    def after_body(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    LoopCrossesSplitFlow()
