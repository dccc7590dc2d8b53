"""Cards end to end: a real run of tests/flows/cards/card_flow.py, read back through get_cards."""

from __future__ import annotations

from pathlib import Path

import pytest

from stepwell.cards import get_cards
from stepwell.testing import run_flow

FLOW = Path(__file__).resolve().parents[1] / "flows" / "cards" / "card_flow.py"


@pytest.mark.parametrize("executor", ["fork", "subprocess"])
def test_cards_of_a_real_run(executor: str, stepwell_home: Path) -> None:
    run = run_flow(FLOW, "--executor", executor, home=stepwell_home)
    assert run.ok, run.stderr
    base = f"{run.flow_name}/{run.run_id}"
    [report] = run.tasks("report")
    cards = get_cards(f"{base}/report/{report.task_id}")
    assert [(c.type, c.id) for c in cards] == [("default", None), ("blank", "extra")]
    default = cards[0].get()
    assert "total" in default and "18" in default  # sum([1, 2, 3]) * alpha=3
    assert 'value="2.0"' in default  # the ProgressBar after update(2)
    assert 'sw-here" data-step="report"' in default
    assert "Extra &lt;b&gt;card&lt;/b&gt;" in cards[1].get()
    [start] = run.tasks("start")
    assert get_cards(f"{base}/start/{start.task_id}") == []
