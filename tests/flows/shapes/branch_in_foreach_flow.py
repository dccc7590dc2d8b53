"""A static branch inside each foreach task.

Expected: values=[4, 7, 10] ((x + 1) + 2x for x in 1, 2, 3), total=21.
"""

from stepwell import FlowSpec, step

EXPECTED = {"values": [4, 7, 10], "total": 21}


class BranchInForeachFlow(FlowSpec):
    """Every item is processed by two branches that are joined per item."""

    @step
    def start(self):
        self.items = [1, 2, 3]
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.x = self.input
        self.next(self.plus_one, self.times_two)

    @step
    def plus_one(self):
        self.y = self.x + 1
        self.next(self.join_branch)

    @step
    def times_two(self):
        self.y = self.x * 2
        self.next(self.join_branch)

    @step
    def join_branch(self, inputs):
        self.value = inputs.plus_one.y + inputs.times_two.y
        self.next(self.join_foreach)

    @step
    def join_foreach(self, inputs):
        self.values = sorted(inp.value for inp in inputs)
        self.total = sum(self.values)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BranchInForeachFlow()
