"""A flow for the command-line tests: a card, a private and a large artifact, two foreach tasks.

start has a card and prints to both streams; part runs twice (items 1 and 2).
"""

import sys

from stepwell import FlowSpec, card, step


class InspectMeFlow(FlowSpec):
    """Start (with a card), a foreach of two parts, a join, end."""

    @card
    @step
    def start(self):
        self.small = 7
        self.big = "b" * 5000
        self._sauce = "secret recipe"
        self.items = [1, 2]
        print("start says hello")
        print("start complains", file=sys.stderr)
        self.next(self.part, foreach="items")

    @step
    def part(self):
        self.value = self.input * 10
        print(f"part {self.input} out")
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.value for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    InspectMeFlow()
