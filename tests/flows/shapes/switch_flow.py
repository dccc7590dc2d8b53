"""A switch: a parameter picks one of two steps, which re-converge on `finish`.

Expected (default --mode fast): report="fast:1", cost=1, route="fast".
With --mode slow: report="slow:10", cost=10 (see EXPECTED_SLOW).
"""

from stepwell import FlowSpec, Parameter, step

EXPECTED = {"report": "fast:1", "cost": 1, "route": "fast"}
EXPECTED_SLOW = {"report": "slow:10", "cost": 10, "route": "slow"}


class SwitchFlow(FlowSpec):
    """Runs either the fast or the slow path; only one of them runs."""

    mode = Parameter("mode", default="fast", help="which path to take: fast or slow")

    @step
    def start(self):
        self.route = self.mode
        self.next({"fast": self.fast, "slow": self.slow}, condition="route")

    @step
    def fast(self):
        self.cost = 1
        self.next(self.finish)

    @step
    def slow(self):
        self.cost = 10
        self.next(self.finish)

    @step
    def finish(self):
        """Not a join: exactly one of fast/slow ran before it."""
        self.report = f"{self.route}:{self.cost}"
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SwitchFlow()
