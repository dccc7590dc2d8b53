"""A foreach: square each item in parallel, then sum the squares.

Expected: sum_of_squares=30 (1 + 4 + 9 + 16), positions=[0, 1, 2, 3].
"""

from stepwell import FlowSpec, step

EXPECTED = {"sum_of_squares": 30, "positions": [0, 1, 2, 3], "items": [1, 2, 3, 4]}


class ForeachFlow(FlowSpec):
    """Fans out over a list of numbers."""

    @step
    def start(self):
        self.items = [1, 2, 3, 4]
        self.next(self.square, foreach="items")

    @step
    def square(self):
        """One task per item: self.input is the item, self.index its position."""
        self.square_value = self.input**2
        self.position = self.index
        self.next(self.join)

    @step
    def join(self, inputs):
        self.sum_of_squares = sum(inp.square_value for inp in inputs)
        self.positions = sorted(inp.position for inp in inputs)
        self.items = inputs[0].items
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ForeachFlow()
