"""Benchmark flow: pypi_env.py without @pypi (the run's own interpreter lacks the packages)."""

import os

from stepwell import FlowSpec, Parameter, step


class PypiEnvFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.work)

    @step
    def work(self):
        self.out = "0.9.0"
        self.next(self.end)

    @step
    def end(self):
        pass


class PypiEnvForeachFlow(FlowSpec):
    n = Parameter("n", help="Number of foreach branches", default=200)

    @step
    def start(self):
        self.items = list(range(self.n))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.out = (self.input, "0.9.0")
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = len([inp.out for inp in inputs])
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    PypiEnvForeachFlow() if os.environ.get("PYPI_ENV_FOREACH") else PypiEnvFlow()
