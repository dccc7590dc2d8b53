"""Lint fixture: a @parallel step reached without num_parallel.

The line marked LINT is where the finding must point.
"""

from stepwell import FlowSpec, parallel, step


class ParallelWithoutNumParallelFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.train)

    @parallel
    @step
    def train(self):  # LINT
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ParallelWithoutNumParallelFlow()
