"""Benchmark flow: the smallest flow there is, start -> end."""

from stepwell import FlowSpec, step


class StartEndFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    StartEndFlow()
