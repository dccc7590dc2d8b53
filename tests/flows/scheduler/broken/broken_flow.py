"""Reads settings.json at import: deployed without it (the code package holds .py files)."""

import json
from pathlib import Path

from stepwell import FlowSpec, step, trigger

SETTINGS = json.loads((Path(__file__).parent / "settings.json").read_text())


@trigger(event="data_ready")
class BrokenFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BrokenFlow()
