"""A gang of 3 tasks: `num_parallel=3` into a @parallel step, then a join.

Expected: ranks=[0, 1, 2], num_nodes=3, rank_sum=3.
"""

from stepwell import FlowSpec, current, parallel, step

EXPECTED = {"ranks": [0, 1, 2], "num_nodes": 3, "rank_sum": 3}


class ParallelFlow(FlowSpec):
    """Starts three tasks together, as a distributed training job would."""

    @step
    def start(self):
        self.next(self.train, num_parallel=3)

    @parallel
    @step
    def train(self):
        """Each task of the gang knows its rank and the gang size."""
        self.rank = current.parallel.node_index
        self.size = current.parallel.num_nodes
        self.next(self.join)

    @step
    def join(self, inputs):
        self.ranks = sorted(inp.rank for inp in inputs)
        self.num_nodes = inputs[0].size
        self.rank_sum = sum(self.ranks)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ParallelFlow()
