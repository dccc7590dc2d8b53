"""A foreach inside one branch of a static split.

Expected: number_total=18 (3 * (1 + 2 + 3)), letters="abc".
"""

from stepwell import FlowSpec, step

EXPECTED = {"number_total": 18, "letters": "abc"}


class ForeachInBranchFlow(FlowSpec):
    """One branch fans out over numbers, the other builds a string."""

    @step
    def start(self):
        self.next(self.numbers, self.letters)

    @step
    def numbers(self):
        self.items = [1, 2, 3]
        self.next(self.triple, foreach="items")

    @step
    def triple(self):
        self.tripled = self.input * 3
        self.next(self.join_numbers)

    @step
    def join_numbers(self, inputs):
        self.result = sum(inp.tripled for inp in inputs)
        self.next(self.join)

    @step
    def letters(self):
        self.result = "".join(["a", "b", "c"])
        self.next(self.join)

    @step
    def join(self, inputs):
        self.number_total = inputs.join_numbers.result
        self.letters = inputs.letters.result
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ForeachInBranchFlow()
