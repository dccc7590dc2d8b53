"""A foreach whose branch 1 ends its own process; branch 0 succeeds.

`--how` picks the way branch 1 goes: sigkill (kills itself with SIGKILL),
exit3 (os._exit(3)) or sysexit (sys.exit(2)).
"""

import os
import signal
import sys

from stepwell import FlowSpec, Parameter, step


class CrashFlow(FlowSpec):
    """Branch 1 of the foreach dies."""

    how = Parameter("how", default="sigkill", help="sigkill, exit3 or sysexit")

    @step
    def start(self):
        self.items = [0, 1]
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.result = f"branch {self.input} done"
        if self.input == 1:
            if self.how == "sigkill":
                os.kill(os.getpid(), signal.SIGKILL)
            elif self.how == "exit3":
                os._exit(3)
            else:
                sys.exit(2)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.results = [inp.result for inp in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    CrashFlow()
