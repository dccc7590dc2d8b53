"""Two branches set `conflict` differently and the join merges without resolving it."""

from stepwell import FlowSpec, step


class MergeConflictFlow(FlowSpec):
    """merge_artifacts() must refuse to pick a side."""

    @step
    def start(self):
        self.shared = "same"
        self.next(self.left, self.right)

    @step
    def left(self):
        self.conflict = "L"
        self.next(self.join)

    @step
    def right(self):
        self.conflict = "R"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.merge_artifacts(inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MergeConflictFlow()
