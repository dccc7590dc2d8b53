"""Foreach over a set, a generator and a dict view, one after the other.

Expected: set_total=6 (1 + 2 + 3), gen_total=30 (0 + 10 + 20),
keys="a,b" (sorted keys of the dict view), split_counts=[3, 3, 2].
"""

from stepwell import FlowSpec, step

EXPECTED = {"set_total": 6, "gen_total": 30, "keys": "a,b", "split_counts": [3, 3, 2]}


class ForeachIterablesFlow(FlowSpec):
    """A foreach works over any iterable, not only lists."""

    @step
    def start(self):
        self.numbers = {1, 2, 3}
        self.next(self.over_set, foreach="numbers")

    @step
    def over_set(self):
        self.item = self.input
        self.width = self.foreach_stack()[-1][1]
        self.next(self.join_set)

    @step
    def join_set(self, inputs):
        self.set_total = sum(inp.item for inp in inputs)
        self.split_counts = [inputs[0].width]
        self.next(self.make_generator)

    @step
    def make_generator(self):
        self.tens = (x * 10 for x in range(3))
        self.next(self.over_generator, foreach="tens")

    @step
    def over_generator(self):
        self.item = self.input
        self.width = self.foreach_stack()[-1][1]
        self.next(self.join_generator)

    @step
    def join_generator(self, inputs):
        self.gen_total = sum(inp.item for inp in inputs)
        self.set_total = inputs[0].set_total
        self.split_counts = [*inputs[0].split_counts, inputs[0].width]
        self.next(self.make_view)

    @step
    def make_view(self):
        self.table = {"a": 1, "b": 2}
        self.table_keys = self.table.keys()
        self.next(self.over_view, foreach="table_keys")

    @step
    def over_view(self):
        self.key = self.input
        self.width = self.foreach_stack()[-1][1]
        self.next(self.join_view)

    @step
    def join_view(self, inputs):
        self.keys = ",".join(sorted(inp.key for inp in inputs))
        self.merge_artifacts(inputs, include=["set_total", "gen_total"])
        self.split_counts = [*inputs[0].split_counts, inputs[0].width]
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ForeachIterablesFlow()
