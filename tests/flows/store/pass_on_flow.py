"""Large values read and passed on, read and changed in place, step after step.

A value passed on unread or read unchanged keeps its blob; one changed in place (an array
element, a DataFrame cell, a new column) is stored as it is now. Expected in ``end``:
``first == 7.0``, ``cell == -1.0``, ``columns == ["a", "b", "c", "d", "e"]`` and the sums.
"""

import numpy as np
import pandas as pd

from stepwell import FlowSpec, step

N = 400_000  # 3.2 MB of float64: read back as a map of its blob


class PassOnFlow(FlowSpec):
    @step
    def start(self):
        rng = np.random.default_rng(0)
        self.array = rng.random(N)
        self.frame = pd.DataFrame(rng.random((N // 4, 4)), columns=list("abcd"))
        self.next(self.read)

    @step
    def read(self):
        self.sum_read = float(self.array.sum()) + float(self.frame.to_numpy().sum())
        self.next(self.edit)

    @step
    def edit(self):
        self.array[0] = 7.0
        self.frame.iloc[3, 1] = -1.0
        self.frame["e"] = 1.0
        self.next(self.end)

    @step
    def end(self):
        self.first = float(self.array[0])
        self.cell = float(self.frame.iloc[3, 1])
        self.columns = list(self.frame.columns)


if __name__ == "__main__":
    PassOnFlow()
