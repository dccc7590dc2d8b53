"""`wobbly` fails on attempt 0 and succeeds on attempt 1 (@retry, no delay)."""

from stepwell import FlowSpec, current, retry, step


class RetryOnceFlow(FlowSpec):
    """Succeeds on the second try."""

    @step
    def start(self):
        self.next(self.wobbly)

    @retry(times=1, minutes_between_retries=0)
    @step
    def wobbly(self):
        print(f"attempt {current.retry_count} starting")
        self.attempt_seen = current.retry_count
        if current.retry_count == 0:
            raise RuntimeError("first attempt fails on purpose")
        self.next(self.end)

    @step
    def end(self):
        self.value = "done"


if __name__ == "__main__":
    RetryOnceFlow()
