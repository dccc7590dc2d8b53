"""A foreach inside a foreach: rows x columns products.

Expected: row_totals=[60, 120] (row * (10 + 20 + 30)), grand_total=180,
max_depth=2 (len(self.foreach_stack()) in the inner step).
"""

from stepwell import FlowSpec, step

EXPECTED = {"row_totals": [60, 120], "grand_total": 180, "max_depth": 2}


class NestedForeachFlow(FlowSpec):
    """Multiplies every row by every column."""

    @step
    def start(self):
        self.rows = [1, 2]
        self.next(self.outer, foreach="rows")

    @step
    def outer(self):
        self.row = self.input
        self.cols = [10, 20, 30]
        self.next(self.inner, foreach="cols")

    @step
    def inner(self):
        self.product = self.row * self.input
        self.depth = len(self.foreach_stack())
        self.next(self.join_inner)

    @step
    def join_inner(self, inputs):
        self.row_total = sum(inp.product for inp in inputs)
        self.depth = max(inp.depth for inp in inputs)
        self.next(self.join_outer)

    @step
    def join_outer(self, inputs):
        self.row_totals = sorted(inp.row_total for inp in inputs)
        self.grand_total = sum(self.row_totals)
        self.max_depth = max(inp.depth for inp in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    NestedForeachFlow()
