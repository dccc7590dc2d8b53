"""A flow that exercises the datastore: typed artifacts, a foreach, a join, a card, logs.

With S3FLOW_GATE set, each ``square`` task writes ``<gate>.waiting-<index>`` and
waits (up to 60 s) for the file ``<gate>`` before it stores its result.
"""

import os
import time
from pathlib import Path

from stepwell import FlowSpec, Parameter, card, current, step


class S3DataFlow(FlowSpec):
    size = Parameter("size", default=1000, help="length of the array and the table")

    @card
    @step
    def start(self):
        import numpy as np
        import pandas as pd

        self.array = np.arange(self.size, dtype="float64")
        self.frame = pd.DataFrame({"x": np.arange(self.size), "y": np.arange(self.size) * 2.0})
        self.small = {"a": 1}
        self.items = [1, 2, 3]
        self.where = current.datastore_root
        print("hello from start")
        self.next(self.square, foreach="items")

    @step
    def square(self):
        self.sq = self.input**2
        self.payload = bytes([self.input]) * 4096  # big enough to be a blob, not inline
        gate = os.environ.get("S3FLOW_GATE")
        if gate:
            Path(f"{gate}.waiting-{self.index}").write_text("waiting")
            deadline = time.monotonic() + 60
            while not Path(gate).exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.sq for i in inputs)
        self.payload_sizes = sorted(len(i.payload) for i in inputs)
        self.array_sum = float(inputs[0].array.sum())
        self.next(self.end)

    @step
    def end(self):
        print("total", self.total)


if __name__ == "__main__":
    S3DataFlow()
