"""Imports at its top a module found only on the driver (PYTHONPATH), not on the workers."""

import driver_only_helper  # noqa: F401

from stepwell import FlowSpec, step


class RayNeedsDep(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    RayNeedsDep()
