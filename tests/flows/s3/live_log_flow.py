"""Prints a line, then waits (up to 60 s) for the file LIVELOG_GATE before it ends."""

import os
import time
from pathlib import Path

from stepwell import FlowSpec, step


class LiveLogFlow(FlowSpec):
    @step
    def start(self):
        print("first line, printed while the task runs", flush=True)
        gate = Path(os.environ["LIVELOG_GATE"])
        deadline = time.monotonic() + 60
        while not gate.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        print("second line")
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    LiveLogFlow()
