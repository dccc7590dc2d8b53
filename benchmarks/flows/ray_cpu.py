"""Benchmark flow: a foreach of 8 tasks, each burning 2 CPU-seconds (--executor ray)."""

import time

from stepwell import FlowSpec, Parameter, step


def burn(cpu_seconds: float) -> int:
    """Busy work until this process has used ``cpu_seconds`` of CPU time."""
    end, spins = time.process_time() + cpu_seconds, 0
    while time.process_time() < end:
        spins += sum(i * i for i in range(1000)) > 0
    return spins


class RayCpuFlow(FlowSpec):
    n = Parameter("n", default=8, help="number of tasks")
    seconds = Parameter("seconds", default=2.0, help="CPU-seconds per task")

    @step
    def start(self):
        self.items = list(range(self.n))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.spins = burn(self.seconds)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.spins for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    RayCpuFlow()
