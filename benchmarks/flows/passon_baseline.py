"""Benchmark flow: passon.py's data stored and passed on by the same steps, never read."""

import numpy as np
import pandas as pd

from stepwell import FlowSpec, step

N_FLOATS = 13_107_200  # 100 MiB of float64
N_ROWS = 3_276_800  # x 4 float64 columns = 100 MiB


class PassOnBaselineFlow(FlowSpec):
    @step
    def start(self):
        rng = np.random.default_rng(0)
        self.array = rng.random(N_FLOATS)
        self.frame = pd.DataFrame(rng.random((N_ROWS, 4)), columns=["a", "b", "c", "d"])
        self.next(self.read1)

    @step
    def read1(self):
        self.total1 = 0.0
        self.next(self.read2)

    @step
    def read2(self):
        self.total2 = 0.0
        self.next(self.read3)

    @step
    def read3(self):
        self.total3 = 0.0
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    PassOnBaselineFlow()
