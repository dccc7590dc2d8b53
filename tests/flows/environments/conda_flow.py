"""@conda with a package PyPI has under the same name (built from PyPI), Metaflow's libraries=."""

import platform
from importlib import metadata

from stepwell import FlowSpec, conda, conda_base, step


@conda_base(python=".".join(platform.python_version_tuple()[:2]))
class CondaFlow(FlowSpec):
    @conda(libraries={"tomli-w": "1.0.0"})
    @step
    def start(self):
        import tomli_w  # noqa: F401

        self.version = metadata.version("tomli-w")
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    CondaFlow()
