"""A step that raises KeyboardInterrupt itself: a failure of the step, not of stepwell."""

from stepwell import FlowSpec, step


class InterruptedFlow(FlowSpec):
    @step
    def start(self):
        raise KeyboardInterrupt
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    InterruptedFlow()
