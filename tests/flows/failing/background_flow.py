"""`start` leaves a background process behind that holds the task's stdout and stderr.

The task itself ends at once; the run should not wait for the leaked process
(it sleeps `--seconds`) before it goes on to `end`.
"""

import subprocess

from stepwell import FlowSpec, Parameter, step


class BackgroundFlow(FlowSpec):
    """A step that starts a daemon-like child and returns."""

    seconds = Parameter("seconds", default=5, type=int, help="how long the child lives")

    @step
    def start(self):
        self.child_pid = subprocess.Popen(["sleep", str(self.seconds)]).pid
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BackgroundFlow()
