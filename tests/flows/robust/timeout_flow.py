"""@timeout on a step stuck in native code that ignores signals; with @retry and @catch."""

import signal
import time

from stepwell import FlowSpec, Parameter, catch, current, retry, step, timeout


class TimeoutFlow(FlowSpec):
    mode = Parameter("mode", default="plain", help="plain | retry | catch")

    @step
    def start(self):
        self.next(self.slow)

    @catch(var="err")
    @retry(times=1, minutes_between_retries=0)
    @timeout(seconds=1)
    @step
    def slow(self):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stuck = self.mode == "plain" or self.mode == "catch" or current.retry_count == 0
        if stuck:
            time.sleep(60)  # a native call: no Python code runs until it returns
        self.finished_on = current.retry_count
        self.next(self.end)

    @step
    def end(self):
        self.caught = None if self.err is None else self.err.exception_type


if __name__ == "__main__":
    TimeoutFlow()
