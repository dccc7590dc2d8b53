"""NumPy arrays and DataFrames through a foreach, a join and in-place edits.

Expected: total=sum over i in 1..3 of i * sum(range(1000)) = 6 * 499500 = 2997000;
smalls=[[1, 1, 1], [2, 2, 2], [3, 3, 3]]; first=99.0 (an inherited array edited in
place is stored again); frame_sum=12 (6 + 9 - 3) and frame_columns=["a", "b"].
"""

import numpy as np
import pandas as pd

from stepwell import FlowSpec, step

EXPECTED = {
    "total": 2997000.0,
    "smalls": [[1, 1, 1], [2, 2, 2], [3, 3, 3]],
    "first": 99.0,
    "frame_sum": 12,
    "frame_columns": ["a", "b"],
}


class TypedArtifactsFlow(FlowSpec):
    """Typed values keep their type and content from step to step."""

    @step
    def start(self):
        self.items = [1, 2, 3]
        self.frame = pd.DataFrame({"a": [1, 2, 3], "b": [2, 3, 4]})
        self.base = np.arange(1000, dtype=np.float64)
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.arr = self.base * self.input
        self.small = np.ones(3, dtype=np.int16) * self.input
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = float(sum(inp.arr.sum() for inp in inputs))
        self.smalls = [inp.small.tolist() for inp in inputs]
        self.merge_artifacts(inputs, include=["frame", "base"])
        self.next(self.edit)

    @step
    def edit(self):
        self.base[0] = 99.0  # in place, on a value loaded from the store
        self.next(self.end)

    @step
    def end(self):
        self.first = float(self.base[0])
        self.frame_sum = int(self.frame["a"].sum() + self.frame["b"].sum() - 3)
        self.frame_columns = list(self.frame.columns)


if __name__ == "__main__":
    TypedArtifactsFlow()
