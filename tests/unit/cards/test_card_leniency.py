"""current.card accepts what Metaflow accepts: a wrong call warns, the task goes on."""

from __future__ import annotations

import pytest

from stepwell.cards import Markdown
from stepwell.cards._collector import CardCollector, CardSlot


def _collector() -> tuple[CardCollector, CardSlot, CardSlot]:
    default, named = CardSlot("default", None, 0), CardSlot("blank", "plots", 1)
    return CardCollector([default, named]), default, named


def test_a_value_that_is_not_a_component_is_skipped_with_a_warning() -> None:
    cards, default, _ = _collector()
    with pytest.warns(UserWarning, match="not added"):
        cards.append("plain text")  # type: ignore[arg-type]
    with pytest.warns(UserWarning, match="not added"):
        cards["plots"].append(42)  # type: ignore[arg-type]
    assert default.components == []


def test_an_unknown_card_id_warns_and_gives_a_detached_list() -> None:
    cards, default, named = _collector()
    with pytest.warns(UserWarning, match="no @card\\(id='nope'\\)"):
        detached = cards["nope"]
    detached.append(Markdown("lost"))
    assert default.components == [] and named.components == []


def test_components_by_id_assignment_and_refresh_arguments() -> None:
    cards, default, named = _collector()
    bar = Markdown("0%")
    cards.append(bar, id="progress")
    assert bar.id == "progress" and default.components == [bar]
    cards["plots"] = [Markdown("a"), Markdown("b")]
    assert [c.text for c in named.components] == ["a", "b"]  # type: ignore[attr-defined]
    cards["plots"].extend([Markdown("c")])
    assert len(named.components) == 3
    cards.refresh(data={"x": 1}, force=True)
    cards["plots"].refresh(force=True)
    cards["plots"].clear()
    assert named.components == []
