"""One step on another Python (3.12) than the run's: artifacts cross between them."""

import sys
from importlib import metadata

from stepwell import FlowSpec, pypi, step


class OtherPythonFlow(FlowSpec):
    @step
    def start(self):
        self.numbers = [1, 2, 3]
        self.next(self.elsewhere)

    @pypi(python="3.12", packages={"tomli-w": "1.0.0"})
    @step
    def elsewhere(self):
        import tomli_w

        self.python = list(sys.version_info[:2])
        self.text = tomli_w.dumps({"total": sum(self.numbers)})
        self.version = metadata.version("tomli-w")
        self.next(self.end)

    @step
    def end(self):
        self.end_python = list(sys.version_info[:2])


if __name__ == "__main__":
    OtherPythonFlow()
