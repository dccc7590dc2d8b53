"""A trivial flow run many times: `value` = the `n` parameter; `fail` makes `end` raise."""

from stepwell import FlowSpec, Parameter, step


class CounterFlow(FlowSpec):
    """Stores its parameter."""

    n = Parameter("n", default=0, help="the value to store")
    fail = Parameter("fail", default=False, type=bool, help="fail in end")

    @step
    def start(self):
        self.value = self.n
        self.constant = "same in every run"
        self.next(self.end)

    @step
    def end(self):
        if self.fail:
            raise RuntimeError(f"run with n={self.n} fails on purpose")


if __name__ == "__main__":
    CounterFlow()
