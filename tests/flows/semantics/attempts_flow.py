"""`flaky` writes to stdout and stderr, fails on attempt 0, succeeds on attempt 1."""

import sys

from stepwell import FlowSpec, current, retry, step


class AttemptsFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.flaky)

    @retry(times=1, minutes_between_retries=0)
    @step
    def flaky(self):
        print(f"out of attempt {current.retry_count}")
        print(f"err of attempt {current.retry_count}", file=sys.stderr)
        self.partial = current.retry_count
        if current.retry_count == 0:
            raise KeyError("missing on the first attempt")
        self.done = "on attempt 1"
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    AttemptsFlow()
