"""Two @pypi steps with conflicting versions of one package the base environment lacks."""

import os
import sys
from importlib import metadata

from stepwell import FlowSpec, pypi, step


def _importable() -> bool:
    try:
        import tomli_w  # noqa: F401
    except ImportError:
        return False
    return True


class PypiFlow(FlowSpec):
    @step
    def start(self):
        self.base_has = _importable()
        self.items = [1, 2, 3, 4]
        self.next(self.old, foreach="items")

    @pypi(packages={"tomli-w": "1.0.0"})
    @step
    def old(self):
        import tomli_w

        self.text = tomli_w.dumps({"item": self.input})
        self.version = metadata.version("tomli-w")
        self.prefix = sys.prefix
        self.zygote = os.getppid()
        self.next(self.join)

    @step
    def join(self, inputs):
        self.texts = [i.text for i in inputs]
        self.old_versions = sorted({i.version for i in inputs})
        self.old_prefixes = sorted({i.prefix for i in inputs})
        self.zygotes = sorted({i.zygote for i in inputs})
        self.join_has = _importable()
        self.next(self.new)

    @pypi(packages={"tomli-w": "==1.1.0"})
    @step
    def new(self):
        if os.environ.get("PYPI_FLOW_FAIL"):
            raise RuntimeError("failing on purpose")
        import tomli_w  # noqa: F401

        self.new_version = metadata.version("tomli-w")
        self.new_prefix = sys.prefix
        self.next(self.end)

    @step
    def end(self):
        self.end_has = _importable()
        print("versions", self.old_versions, self.new_version)


if __name__ == "__main__":
    PypiFlow()
