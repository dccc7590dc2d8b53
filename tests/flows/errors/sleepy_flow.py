"""Tasks that sleep and leave their pid: the test stops the run with SIGTERM."""

import os
import time

from stepwell import FlowSpec, step


class SleepyFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.work, foreach="items")

    @step
    def work(self):
        with open(os.environ["SLEEPY_PIDS"], "a") as fh:
            fh.write(f"{os.getpid()}\n")
        time.sleep(60)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SleepyFlow()
