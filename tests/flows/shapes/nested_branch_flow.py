"""Nested static branches: branch a splits again into a1 and a2.

Expected: inner=3 (1 + 2, joined in join_a), total=13 (3 + 10).
"""

from stepwell import FlowSpec, step

EXPECTED = {"inner": 3, "total": 13}


class NestedBranchFlow(FlowSpec):
    """A branch inside a branch, each closed by its own join."""

    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.next(self.a1, self.a2)

    @step
    def a1(self):
        self.value = 1
        self.next(self.join_a)

    @step
    def a2(self):
        self.value = 2
        self.next(self.join_a)

    @step
    def join_a(self, inputs):
        self.value = sum(inp.value for inp in inputs)
        self.inner = self.value
        self.next(self.join)

    @step
    def b(self):
        self.value = 10
        self.inner = None
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(inp.value for inp in inputs)
        self.inner = inputs.join_a.inner
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    NestedBranchFlow()
