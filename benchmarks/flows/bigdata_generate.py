"""Benchmark flow: bigdata.py's data made and summed, but not kept (a storage-only baseline).

``bigdata`` minus this flow is the time spent persisting and reloading the two
100 MiB values alone: the data generation and the sums cost the same in both.
"""

import numpy as np
import pandas as pd

from stepwell import FlowSpec, step

N_FLOATS = 13_107_200  # 100 MiB of float64
N_ROWS = 3_276_800  # x 4 float64 columns = 100 MiB


class BigDataGenerateFlow(FlowSpec):
    @step
    def start(self):
        rng = np.random.default_rng(0)
        array = rng.random(N_FLOATS)
        frame = pd.DataFrame(rng.random((N_ROWS, 4)), columns=["a", "b", "c", "d"])
        self.total = float(array.sum()) + float(frame.to_numpy().sum())
        self.next(self.consume)

    @step
    def consume(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BigDataGenerateFlow()
