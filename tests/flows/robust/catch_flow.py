"""@catch after @retry; after a kill; on success; on a foreach split (cannot go on)."""

import os
import signal

from stepwell import FlowSpec, Parameter, catch, current, retry, step


class CatchFlow(FlowSpec):
    how = Parameter("how", default="raise", help="raise | kill | ok | foreach")

    @step
    def start(self):
        self.next(self.risky)

    @catch(var="err")
    @retry(times=1, minutes_between_retries=0)
    @step
    def risky(self):
        self.partial = "set before failing"
        self.attempts_seen = current.retry_count
        if self.how == "raise":
            raise ValueError(f"bad input on attempt {current.retry_count}")
        if self.how == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        self.next(self.fan)

    @catch(var="fan_err")
    @step
    def fan(self):
        if self.how == "foreach":
            raise RuntimeError("no items today")
        self.items = [1, 2]
        self.next(self.each, foreach="items")

    @step
    def each(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.merge_artifacts(inputs)
        self.next(self.end)

    @step
    def end(self):
        self.caught = None if self.err is None else (self.err.exception_type, str(self.err))
        self.partial_survived = hasattr(self, "partial") and self.err is None


if __name__ == "__main__":
    CatchFlow()
