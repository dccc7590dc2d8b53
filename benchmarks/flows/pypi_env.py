"""Benchmark flow: a step in a @pypi environment; its twin without is pypi_env_plain.py.

``PypiEnvFlow`` is start -> work -> end; with ``PYPI_ENV_FOREACH`` set, the run is
``PypiEnvForeachFlow`` instead: start -> work (a foreach of ``n`` tasks) -> join -> end.
Only ``work`` asks for the packages; it imports none of them, so the difference to
the twin is stepwell's own cost of running ``work`` in its environment.
"""

import os

from stepwell import FlowSpec, Parameter, pypi, step

PACKAGES = {"tomli-w": "1.1.0", "humanize": "4.9.0", "tabulate": "0.9.0"}


class PypiEnvFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.work)

    @pypi(packages=PACKAGES)
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

    @pypi(packages=PACKAGES)
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
