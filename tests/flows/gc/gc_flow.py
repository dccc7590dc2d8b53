"""A flow for the garbage collection tests: blobs of its own, a blob every run shares,
a foreach (its items blob), a card, logs; GC_FAIL=1 makes the join fail (for resume),
GC_BIG=1 gives the end step a blob of over 1 MiB (stamped verified when written)."""

import os

from stepwell import FlowSpec, Parameter, card, step


class GcFlow(FlowSpec):
    seed = Parameter("seed", default=0, type=int)

    @card
    @step
    def start(self):
        print("hello from start", self.seed)
        self.shared = b"s" * 5000  # the same content in every run: one blob
        self.own = str(self.seed).encode() * 3000  # this run's own blob
        self.items = [f"{self.seed}-{i}-" * 400 for i in range(3)]
        self.next(self.work, foreach="items")

    @step
    def work(self):
        print("work on", self.index)
        self.piece = self.input.encode() * 2
        self.next(self.join)

    @step
    def join(self, inputs):
        if os.environ.get("GC_FAIL"):
            raise RuntimeError("failing on purpose (GC_FAIL)")
        self.total = sum(len(i.piece) for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        print("done", self.total)
        if os.environ.get("GC_BIG"):  # a blob large enough to get a "verified" stamp
            self.big = os.urandom((1 << 20) + 100)


if __name__ == "__main__":
    GcFlow()
