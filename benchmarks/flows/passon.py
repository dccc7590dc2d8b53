"""Benchmark flow: a 100 MiB array and a 100 MiB DataFrame read and passed on by three steps.

Each of ``read1``..``read3`` reads both values (sums them) and, like any step that read
a value it could have changed in place, stores them again. Compare with
passon_baseline.py (the same steps, which pass the values on without reading them): the
difference is what reading and passing on a dataset costs, three times over.
"""

import numpy as np
import pandas as pd

from stepwell import FlowSpec, step

N_FLOATS = 13_107_200  # 100 MiB of float64
N_ROWS = 3_276_800  # x 4 float64 columns = 100 MiB


class PassOnFlow(FlowSpec):
    @step
    def start(self):
        rng = np.random.default_rng(0)
        self.array = rng.random(N_FLOATS)
        self.frame = pd.DataFrame(rng.random((N_ROWS, 4)), columns=["a", "b", "c", "d"])
        self.next(self.read1)

    @step
    def read1(self):
        self.total1 = float(self.array.sum()) + float(self.frame.to_numpy().sum())
        self.next(self.read2)

    @step
    def read2(self):
        self.total2 = float(self.array.sum()) + float(self.frame.to_numpy().sum())
        self.next(self.read3)

    @step
    def read3(self):
        self.total3 = float(self.array.sum()) + float(self.frame.to_numpy().sum())
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    PassOnFlow()
