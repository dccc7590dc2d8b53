"""A foreach and a join whose artifacts are blobs (not inline): the crash tests kill it.

Each run also stores blobs of its own (random bytes), so garbage collection frees some.
"""

import os

from stepwell import FlowSpec, step


class CrashableFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2, 3]
        self.payload = bytes(range(256)) * 64  # 16 KiB: stored as a blob
        self.nonce = os.urandom(4096)  # this run's own blob (gc frees it with the run)
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.value = self.input * 10
        self.block = bytes([self.input]) * 4096
        self.own = os.urandom(4096)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.value for i in inputs)
        self.blocks = b"".join(i.block for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        self.done = len(self.blocks)


if __name__ == "__main__":
    CrashableFlow()
