"""A step that prints three lines to stdout and one to stderr."""

import sys

from stepwell import FlowSpec, step


class LogsFlow(FlowSpec):
    """Writes logs."""

    @step
    def start(self):
        self.next(self.talk)

    @step
    def talk(self):
        print("out line one")
        print("out line two")
        print("out line three")
        print("err line one", file=sys.stderr)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    LogsFlow()
