"""Fails in `explode` after `start` stored an artifact; `end` never runs."""

from stepwell import FlowSpec, step


class FailsFlow(FlowSpec):
    """Raises in its second step."""

    @step
    def start(self):
        self.before = "stored before the failure"
        self.next(self.explode)

    @step
    def explode(self):
        print("about to fail")
        if self.before:
            raise ValueError("the client test failure 1234")
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    FailsFlow()
