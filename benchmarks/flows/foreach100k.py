"""Benchmark flow: a foreach over 100,000 trivial branches (stepwell only, --big) and a join."""

from stepwell import FlowSpec, Parameter, step


class Foreach100kFlow(FlowSpec):
    n = Parameter("n", help="Number of foreach branches", default=100_000)

    @step
    def start(self):
        self.items = list(range(self.n))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.out = self.input * 2
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(inp.out for inp in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    Foreach100kFlow()
