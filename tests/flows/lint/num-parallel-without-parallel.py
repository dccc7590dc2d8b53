"""Lint fixture: num_parallel into a step without @parallel.

The line marked LINT is where the finding must point.
"""

from stepwell import FlowSpec, step


class NumParallelWithoutParallelFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.train, num_parallel=2)  # LINT

    @step
    def train(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    NumParallelWithoutParallelFlow()
