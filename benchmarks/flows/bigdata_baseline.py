"""Benchmark flow: bigdata.py's steps and imports with nothing big (its baseline)."""

import numpy as np
import pandas as pd

from stepwell import FlowSpec, step


class BigDataBaselineFlow(FlowSpec):
    @step
    def start(self):
        self.array = np.zeros(1)
        self.frame = pd.DataFrame({"a": [0.0]})
        self.next(self.consume)

    @step
    def consume(self):
        self.total = float(self.array.sum()) + float(self.frame.to_numpy().sum())
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BigDataBaselineFlow()
