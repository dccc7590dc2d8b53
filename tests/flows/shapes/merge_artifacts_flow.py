"""merge_artifacts in a join: agreed and one-sided artifacts flow through; a conflict is set first.

Expected: shared="same", settings={"k": 1}, left_value=1, right_value=2,
conflict="resolved".
"""

from stepwell import FlowSpec, step

EXPECTED = {
    "shared": "same",
    "settings": {"k": 1},
    "left_value": 1,
    "right_value": 2,
    "conflict": "resolved",
}


class MergeArtifactsFlow(FlowSpec):
    """Two branches set different artifacts; the join merges them."""

    @step
    def start(self):
        self.shared = "same"
        self.settings = {"k": 1}
        self.next(self.left, self.right)

    @step
    def left(self):
        self.left_value = 1
        self.conflict = "L"
        self.next(self.join)

    @step
    def right(self):
        self.right_value = 2
        self.conflict = "R"
        self.next(self.join)

    @step
    def join(self, inputs):
        """Set the conflicting artifact first, then merge everything else."""
        self.conflict = "resolved"
        self.merge_artifacts(inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MergeArtifactsFlow()
