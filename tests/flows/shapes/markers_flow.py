"""Start and end steps with other names: @step(start=True) and @step(end=True).

Expected: path="begin>middle>finish".
"""

from stepwell import FlowSpec, step

EXPECTED = {"path": "begin>middle>finish"}


class MarkersFlow(FlowSpec):
    """The first step is `begin` and the last is `finish`."""

    @step(start=True)
    def begin(self):
        self.path = "begin"
        self.next(self.middle)

    @step
    def middle(self):
        self.path += ">middle"
        self.next(self.finish)

    @step(end=True)
    def finish(self):
        self.path += ">finish"


if __name__ == "__main__":
    MarkersFlow()
