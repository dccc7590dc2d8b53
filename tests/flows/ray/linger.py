"""A step that prints, then runs until it is stopped (Ctrl-C, a killed driver)."""

import os
import time
from pathlib import Path

from stepwell import FlowSpec, Parameter, step


class RayLinger(FlowSpec):
    marks = Parameter("marks", default="")

    @step
    def start(self):
        self.next(self.linger)

    @step
    def linger(self):
        Path(self.marks, "pid").write_text(str(os.getpid()))
        for i in range(600):
            print(f"tick {i}", flush=True)
            time.sleep(0.5)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    RayLinger()
