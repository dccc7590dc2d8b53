"""A foreach whose branches each ask for all of the machine's CPUs: they must not overlap."""

import os
import time

from stepwell import FlowSpec, resources, step

CPUS = os.cpu_count() or 1


class ResourcesFlow(FlowSpec):
    @step
    def start(self):
        self.items = [0, 1, 2]
        self.next(self.work, foreach="items")

    @resources(cpu=CPUS)
    @step
    def work(self):
        self.began = time.time()
        time.sleep(0.3)
        self.ended = time.time()
        self.next(self.join)

    @step
    def join(self, inputs):
        self.spans = sorted((inp.began, inp.ended) for inp in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ResourcesFlow()
