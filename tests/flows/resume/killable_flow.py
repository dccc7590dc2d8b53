"""A foreach of slow tasks that leave a mark when they finish: the test kills the scheduler."""

import os
import time

from stepwell import FlowSpec, step


class KillableFlow(FlowSpec):
    @step
    def start(self):
        self.items = list(range(6))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        # the last item finishes well after the others, so a kill after the
        # fifth mark always lands before the run can end
        time.sleep(1.0 if self.input == 5 else 0.4)
        self.value = self.input * 10
        with open(os.environ["RESUME_TRACE"], "a") as fh:
            fh.write(f"work:{self.input}\n")
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(inp.value for inp in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    KillableFlow()
