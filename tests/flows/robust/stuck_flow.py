"""A step stuck in a native call that ignores SIGTERM and SIGINT, under @timeout only."""

import signal
import time

from stepwell import FlowSpec, step, timeout


class StuckFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.slow)

    @timeout(seconds=1)
    @step
    def slow(self):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        time.sleep(60)  # a native call: no Python code runs until it returns
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    StuckFlow()
