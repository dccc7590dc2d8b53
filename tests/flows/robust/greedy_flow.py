"""A step asking for more CPUs than any machine here has: capped, or refused when strict."""

from stepwell import FlowSpec, resources, step


class GreedyFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.train)

    @resources(cpu=100_000, memory=64)
    @step
    def train(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    GreedyFlow()
