"""A task whose one-task command is killed (as an out-of-memory kill or a lost worker
would): nothing records the end of the run but the DAG's teardown task (finish-run).
"""

import os
import signal

from stepwell import FlowSpec, step


def _parent_of(pid):
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


class AirflowKilledFlow(FlowSpec):
    """The start task kills the `stepwell task` command that runs it (its zygote's parent)."""

    @step
    def start(self):
        os.kill(_parent_of(os.getppid()), signal.SIGKILL)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    AirflowKilledFlow()
