"""A linear flow: start -> double -> square -> end.

Expected: x=1, doubled=2, squared=4, result=5.
"""

from stepwell import FlowSpec, resources, retry, step

EXPECTED = {"x": 1, "doubled": 2, "squared": 4, "result": 5}


class LinearFlow(FlowSpec):
    """Doubles a number, squares it, and adds the original back."""

    @step
    def start(self):
        """Pick the starting number."""
        self.x = 1
        self.next(self.double)

    @retry(times=2)
    @step
    def double(self):
        """Double it."""
        self.doubled = self.x * 2
        self.next(self.square)

    @resources(cpu=1, memory=512)
    @step
    def square(self):
        """Square the doubled value."""
        self.squared = self.doubled**2
        self.next(self.end)

    @step
    def end(self):
        """Add the original number back."""
        self.result = self.x + self.squared


if __name__ == "__main__":
    LinearFlow()
