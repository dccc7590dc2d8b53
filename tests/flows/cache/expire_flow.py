"""@cache(seconds=...): an entry older than the expiry is not reused.

The expiry comes from $CACHE_SECONDS (default 1); each run of 'work' appends a line
to $CACHE_TRACE.
"""

import os

from stepwell import FlowSpec, cache, step


def note(what):
    with open(os.environ["CACHE_TRACE"], "a") as out:
        out.write(what + "\n")


class ExpireFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.work)

    @cache(seconds=float(os.environ.get("CACHE_SECONDS", "1")), key="v1")
    @step
    def work(self):
        note("work")
        self.result = 42
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ExpireFlow()
