"""Recursion to an earlier step: `check` switches back to `attempt` until it succeeds.

Expected: attempts=3, verdict="ok".
"""

from stepwell import FlowSpec, step

EXPECTED = {"attempts": 3, "verdict": "ok"}


class LoopBackFlow(FlowSpec):
    """Retries a piece of work (two steps) until a check passes."""

    @step
    def start(self):
        self.attempts = 0
        self.next(self.attempt)

    @step
    def attempt(self):
        self.attempts += 1
        self.next(self.check)

    @step
    def check(self):
        self.verdict = "ok" if self.attempts >= 3 else "retry"
        self.next({"retry": self.attempt, "ok": self.end}, condition="verdict")

    @step
    def end(self):
        pass


if __name__ == "__main__":
    LoopBackFlow()
