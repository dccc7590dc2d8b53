"""Recursion: `loop` switches back to itself until the counter reaches the target.

Expected (default --target 5): count=5, history=[1, 2, 3, 4, 5].
"""

from stepwell import FlowSpec, Parameter, step

EXPECTED = {"count": 5, "history": [1, 2, 3, 4, 5]}


class RecursionFlow(FlowSpec):
    """Counts up to a target by running the same step again."""

    target = Parameter("target", default=5, help="how many times to run the loop")

    @step
    def start(self):
        self.count = 0
        self.history = []
        self.next(self.loop)

    @step
    def loop(self):
        self.count += 1
        self.history = [*self.history, self.count]
        self.status = "again" if self.count < self.target else "done"
        self.next({"again": self.loop, "done": self.end}, condition="status")

    @step
    def end(self):
        pass


if __name__ == "__main__":
    RecursionFlow()
