"""A @parallel gang whose tasks wait for each other: it finishes only if all start together."""

import os
import time

from stepwell import FlowSpec, Parameter, current, parallel, step


class GangFlow(FlowSpec):
    rendezvous = Parameter("rendezvous", default="", help="a directory shared by the gang")

    @step
    def start(self):
        self.next(self.train, num_parallel=3)

    @parallel
    @step
    def train(self):
        me = current.parallel.node_index
        open(os.path.join(self.rendezvous, f"rank-{me}"), "w").close()
        deadline = time.monotonic() + 30
        while len(os.listdir(self.rendezvous)) < current.parallel.num_nodes:
            if time.monotonic() > deadline:
                raise TimeoutError("the gang did not start together")
            time.sleep(0.05)
        self.rank = me
        self.next(self.join)

    @step
    def join(self, inputs):
        self.ranks = sorted(inp.rank for inp in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    GangFlow()
