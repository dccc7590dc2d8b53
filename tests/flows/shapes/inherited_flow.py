"""Steps inherited from a mixin class: `start` comes from CommonSteps.

Expected: origin="mixin", finished=True.
"""

from stepwell import FlowSpec, step

EXPECTED = {"origin": "mixin", "finished": True}


class CommonSteps:
    """Reusable steps shared by several flows."""

    @step
    def start(self):
        """Defined in the mixin."""
        self.origin = "mixin"
        self.next(self.end)


class InheritedFlow(CommonSteps, FlowSpec):
    """Takes its start step from CommonSteps."""

    @step
    def end(self):
        self.finished = True


if __name__ == "__main__":
    InheritedFlow()
