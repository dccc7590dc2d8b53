"""A switch inside a static branch; its cases re-converge on `merge_point`, then the join.

Expected: total=102 (plain 1 + routed big 100 + 1), routed_value=101.
"""

from stepwell import FlowSpec, step

EXPECTED = {"total": 102, "routed_value": 101}


class SwitchInBranchFlow(FlowSpec):
    """One branch is plain; the other routes through a switch first."""

    @step
    def start(self):
        self.next(self.plain, self.routed)

    @step
    def plain(self):
        self.value = 1
        self.next(self.join)

    @step
    def routed(self):
        self.threshold = 50
        self.size = "big" if self.threshold > 10 else "small"
        self.next({"big": self.big, "small": self.small}, condition="size")

    @step
    def big(self):
        self.value = 100
        self.next(self.merge_point)

    @step
    def small(self):
        self.value = 5
        self.next(self.merge_point)

    @step
    def merge_point(self):
        self.value = self.value + 1
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(inp.value for inp in inputs)
        self.routed_value = inputs.merge_point.value
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SwitchInBranchFlow()
