"""A flow to spin steps of: a parameter, a foreach, a join and a step that fails on demand.

``SPIN_FAIL=1`` makes ``train`` fail, as a step being developed does; spinning it
again without the variable runs the fixed step with the same inputs.
"""

import os

from stepwell import FlowSpec, Parameter, card, current, step


class SpinFlow(FlowSpec):
    scale = Parameter("scale", default=10)

    @step
    def start(self):
        self.items = [1, 2, 3]
        self.base = 100
        self.next(self.train, foreach="items")

    @card
    @step
    def train(self):
        if os.environ.get("SPIN_FAIL"):
            raise RuntimeError("train is not finished yet")
        self.score = self.base + self.input * self.scale
        self.seen = (current.run_id, current.task_id, self.index)
        print(f"training on item {self.input}")
        self.next(self.join)

    @step
    def join(self, inputs):
        self.scores = [i.score for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        self.total = sum(self.scores)


if __name__ == "__main__":
    SpinFlow()
