"""Fails on its first attempt, succeeds on the second; no decorator of its own."""

from stepwell import FlowSpec, current, step


class FlakyFlow(FlowSpec):
    @step
    def start(self):
        if current.retry_count == 0:
            raise ConnectionError("the service blinked")
        self.attempt = current.retry_count
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    FlakyFlow()
