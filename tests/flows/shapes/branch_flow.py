"""A static branch: start splits into a and b, which a join closes.

Expected: total=23 (11 + 12), from_a=11, from_b=12, base=10.
"""

from stepwell import FlowSpec, step

EXPECTED = {"total": 23, "from_a": 11, "from_b": 12, "base": 10}


class BranchFlow(FlowSpec):
    """Adds 1 and 2 to a base in two parallel branches, then sums them."""

    @step
    def start(self):
        self.base = 10
        self.next(self.a, self.b)

    @step
    def a(self):
        self.value = self.base + 1
        self.next(self.join)

    @step
    def b(self):
        self.value = self.base + 2
        self.next(self.join)

    @step
    def join(self, inputs):
        """Sum the branch values; read each branch by name."""
        self.total = sum(inp.value for inp in inputs)
        self.from_a = inputs.a.value
        self.from_b = inputs.b.value
        self.base = inputs.a.base
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BranchFlow()
