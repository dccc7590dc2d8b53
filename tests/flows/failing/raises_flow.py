"""A step raises ValueError after two steps succeeded.

Expected: the run fails at `boom`; `start` and `middle` are recorded with
their artifacts; the line marked RAISE is in the traceback shown.
"""

from stepwell import FlowSpec, step


def check(value):
    if value == 42:
        raise ValueError(f"bad value {value}")  # RAISE


class RaisesFlow(FlowSpec):
    """Fails in its third step."""

    @step
    def start(self):
        self.greeting = "hello"
        self.next(self.middle)

    @step
    def middle(self):
        self.value = 42
        self.next(self.boom)

    @step
    def boom(self):
        check(self.value)  # CALL
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    RaisesFlow()
