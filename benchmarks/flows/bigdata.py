"""Benchmark flow: a 100 MiB NumPy array and a 100 MiB DataFrame passed between steps.

Compare with bigdata_baseline.py (same steps, nothing big): the difference is
the time each tool spends storing and loading the two artifacts.
"""

import numpy as np
import pandas as pd

from stepwell import FlowSpec, step

N_FLOATS = 13_107_200  # 100 MiB of float64
N_ROWS = 3_276_800  # x 4 float64 columns = 100 MiB


class BigDataFlow(FlowSpec):
    @step
    def start(self):
        rng = np.random.default_rng(0)
        self.array = rng.random(N_FLOATS)
        self.frame = pd.DataFrame(rng.random((N_ROWS, 4)), columns=["a", "b", "c", "d"])
        self.next(self.consume)

    @step
    def consume(self):
        self.total = float(self.array.sum()) + float(self.frame.to_numpy().sum())
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BigDataFlow()
