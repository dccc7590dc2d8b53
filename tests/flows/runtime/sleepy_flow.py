"""A flow whose middle step sleeps; the test kills the scheduler while it runs."""

import os
import time

from stepwell import FlowSpec, Parameter, step


class SleepyFlow(FlowSpec):
    pid_file = Parameter("pid-file", default="", help="where the sleeping task writes its pid")

    @step
    def start(self):
        self.before = "done"
        self.next(self.sleep)

    @step
    def sleep(self):
        with open(self.pid_file, "w") as fh:
            fh.write(str(os.getpid()))
        time.sleep(60)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SleepyFlow()
