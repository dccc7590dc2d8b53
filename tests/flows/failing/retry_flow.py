"""@retry: `flaky` fails on attempts 0 and 1, succeeds on attempt 2."""

from stepwell import FlowSpec, current, retry, step


class RetryFlow(FlowSpec):
    """Succeeds on the third try."""

    @step
    def start(self):
        self.next(self.flaky)

    @retry(times=2, minutes_between_retries=0)
    @step
    def flaky(self):
        self.retry_count = current.retry_count
        if current.retry_count < 2:
            raise RuntimeError(f"flaky failure on attempt {current.retry_count}")
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    RetryFlow()
