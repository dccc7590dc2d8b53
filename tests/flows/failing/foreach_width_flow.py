"""A foreach over `--width` items (computed at run time, so the linter cannot see it).

Width 0 fails as an empty foreach; a width above --max-num-splits fails too.
"""

from stepwell import FlowSpec, Parameter, step


class ForeachWidthFlow(FlowSpec):
    """Fans out over range(width)."""

    width = Parameter("width", default=3, type=int, help="how many items")

    @step
    def start(self):
        self.items = list(range(self.width))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.double = self.input * 2
        self.next(self.join)

    @step
    def join(self, inputs):
        self.doubles = [inp.double for inp in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ForeachWidthFlow()
