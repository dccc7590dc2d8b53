"""Each split of a foreach loops on its own first step until it is done."""

from stepwell import FlowSpec, step


class ForeachLoopFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.grow, foreach="items")

    @step
    def grow(self):
        self.size = getattr(self, "size", self.input) * 2
        self.state = "again" if self.size < 8 else "done"
        self.next({"again": self.grow, "done": self.collect}, condition="state")

    @step
    def collect(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.sizes = sorted(i.size for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ForeachLoopFlow()
