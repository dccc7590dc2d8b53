"""While a task runs, the UI serves the card its refresh() last wrote; then the stored card."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from stepwell.ui._params import Query
from stepwell.ui._task_api import get_card, list_cards

FLOW = Path(__file__).parents[1] / "flows" / "cards" / "live_card_flow.py"


def test_live_card_then_stored_card(stepwell_home: Path, tmp_path: Path) -> None:
    id_file = tmp_path / "id"
    env = {**os.environ, "STEPWELL_HOME": str(stepwell_home)}
    proc = subprocess.Popen([sys.executable, str(FLOW), "--quiet", "run", "--run-id-file",
                             str(id_file)], env=env)  # fmt: skip
    try:
        live_dir = stepwell_home / "cards" / "live" / "LiveCardFlow"
        deadline = time.monotonic() + 30
        while not list(live_dir.rglob("*.html")) and time.monotonic() < deadline:
            time.sleep(0.05)
        [live_file] = list(live_dir.rglob("*.html"))
        params = {"flow": "LiveCardFlow", "run": id_file.read_text(), "step": "start",
                  "task": live_file.parent.name}  # fmt: skip
        listed = list_cards(params, Query({}))
        assert listed["cards"] and listed["cards"][0]["live"] is True
        _, html = get_card({**params, "index": "0"}, Query({}))
        assert b"work" in html  # the ProgressBar's label, rendered while the task runs
    finally:
        assert proc.wait(timeout=60) == 0
    final = list_cards(params, Query({}))
    assert final["cards"][0]["live"] is False
    _, html = get_card({**params, "index": "0"}, Query({}))
    assert b'value="5' in html  # the bar's final value
