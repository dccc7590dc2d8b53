"""A step that misbehaves on purpose: runs past its @timeout, or kills its Ray worker."""

import os
import time
from pathlib import Path

from stepwell import FlowSpec, Parameter, catch, current, retry, step, timeout


def _ray_worker_pid() -> int:
    """task -> zygote -> Ray worker: the zygote's parent."""
    zygote = os.getppid()
    stat = Path(f"/proc/{zygote}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


class RayControl(FlowSpec):
    mode = Parameter("mode", default="timeout")
    marks = Parameter("marks", default="")

    @step
    def start(self):
        self.next(self.act)

    @catch(var="failure")
    @retry(times=1, minutes_between_retries=0)
    @timeout(seconds=3)
    @step
    def act(self):
        Path(self.marks, f"pid-{current.retry_count}").write_text(str(os.getpid()))
        if self.mode == "timeout":
            time.sleep(120)
        elif self.mode == "lose-worker" and current.retry_count == 0:
            os.kill(_ray_worker_pid(), 9)
            time.sleep(60)
        self.survived = current.retry_count
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    RayControl()
