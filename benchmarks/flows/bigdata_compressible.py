"""Benchmark flow: bigdata.py with compressible values (values to the cent, which zstd shrinks ~5x).

Same sizes, steps and baseline (bigdata_baseline.py) as bigdata.py; only the
values differ: float64 in [0, 1) rounded to two decimals, as measured or priced data
often is, instead of random bits that no compressor can shrink.
"""

import numpy as np
import pandas as pd

from stepwell import FlowSpec, step

N_FLOATS = 13_107_200  # 100 MiB of float64
N_ROWS = 3_276_800  # x 4 float64 columns = 100 MiB


class BigDataCompressibleFlow(FlowSpec):
    @step
    def start(self):
        rng = np.random.default_rng(0)
        self.array = np.round(rng.random(N_FLOATS), 2)
        self.frame = pd.DataFrame(
            np.round(rng.random((N_ROWS, 4)), 2), columns=["a", "b", "c", "d"]
        )
        self.next(self.consume)

    @step
    def consume(self):
        self.total = float(self.array.sum()) + float(self.frame.to_numpy().sum())
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BigDataCompressibleFlow()
