"""A small @project flow for the team tests: a foreach that fails on demand (TEAM_FAIL=i)."""

import os

from stepwell import FlowSpec, Parameter, project, step


@project(name="churn")
class TeamFlow(FlowSpec):
    n = Parameter("n", default=3, type=int, help="how many items")

    @step
    def start(self):
        self.items = list(range(self.n))
        self.next(self.score, foreach="items")

    @step
    def score(self):
        if os.environ.get("TEAM_FAIL") == str(self.input):
            raise RuntimeError(f"failing at item {self.input} on purpose")
        self.value = self.input * 10
        print(f"scored {self.input}")
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(inp.value for inp in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TeamFlow()
