"""The flow file imports numpy at its top: the base has it, the step's environment does not."""

import numpy  # noqa: F401

from stepwell import FlowSpec, pypi, step


class TopImportFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.inside)

    @pypi(packages={"tomli-w": "1.0.0"})
    @step
    def inside(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TopImportFlow()
