"""Prints many lines: the test closes the console pipe after the first one."""

from stepwell import FlowSpec, step


class ChattyFlow(FlowSpec):
    @step
    def start(self):
        for i in range(5000):
            print("line", i)
        self.next(self.end)

    @step
    def end(self):
        self.finished = True


if __name__ == "__main__":
    ChattyFlow()
