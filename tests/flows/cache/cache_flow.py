"""@cache: a linear step, a foreach whose branches are cached, and a cached join.

$FAIL_ITEM makes the branch of that item fail; $FAIL_END makes end fail.
Each step that runs appends a line to the file named by $CACHE_TRACE, so a test
sees which tasks ran and which were reused.
"""

import os

from stepwell import FlowSpec, Parameter, cache, step

SCALE = 10


def scaled(x):
    return x * SCALE


def note(what):
    trace = os.environ.get("CACHE_TRACE")
    if trace:
        with open(trace, "a") as out:
            out.write(what + "\n")


class CacheFlow(FlowSpec):
    alpha = Parameter("alpha", default=1)
    width = Parameter("width", default=3)

    @step
    def start(self):
        note("start")
        self.items = list(range(self.width))
        self.next(self.prepare)

    @cache
    @step
    def prepare(self):
        note("prepare")
        self.base = scaled(self.alpha)
        self.next(self.branch, foreach="items")

    @cache
    @step
    def branch(self):
        note(f"branch:{self.input}")
        if os.environ.get("FAIL_ITEM") == str(self.input):
            raise ValueError(f"item {self.input} fails (FAIL_ITEM)")
        self.value = self.base + self.input
        self.next(self.gather)

    @cache
    @step
    def gather(self, inputs):
        note("gather")
        self.total = sum(i.value for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        note("end")
        if os.environ.get("FAIL_END"):
            raise RuntimeError("end fails (FAIL_END)")


if __name__ == "__main__":
    CacheFlow()
