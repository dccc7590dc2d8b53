"""Reading cards back: get_cards over task metadata + blobs, and the CLI helpers."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from stepwell.cards import Markdown, card_html, get_cards, list_cards, task_cards, view_card
from stepwell.decorators import CardDecorator
from stepwell.exceptions import NotFoundError
from stepwell.store import ContentStore


class FakeTask:
    """Stands in for stepwell.client.Task: a pathspec and its metadata entries."""

    def __init__(self, pathspec: str, metadata: dict[str, str]) -> None:
        self.pathspec = pathspec
        self.metadata_dict = {"attempt": "0", **metadata}


@pytest.fixture
def task(
    store: ContentStore, graph: Any, make_flow: Any, FakeSpec: Any, card_node: Any
) -> FakeTask:
    node = card_node(CardDecorator(type="blank", id="extra"), CardDecorator())
    with task_cards(node, make_flow(), FakeSpec(), store, 0.0, graph=graph) as sink:
        sink.collector.append(Markdown("default body"))
        sink.collector["extra"].append(Markdown("extra <body>"))
    return FakeTask("CardFlow/7/report/3", sink.records)


def test_get_cards_round_trip(task: FakeTask, store: ContentStore) -> None:
    cards = get_cards(task, store=store)
    assert [(c.type, c.id) for c in cards] == [("default", None), ("blank", "extra")]
    page = cards[1].get()
    assert page.startswith("<!DOCTYPE html>") and "extra &lt;body&gt;" in page
    assert "<style>" in page and "stepwell-card-assets" not in page  # assets inlined
    assert cards[1].html == page == cards[1]._repr_html_()
    assert "http://" not in page and "https://" not in page and "<script src" not in page


def test_get_cards_filters(task: FakeTask, store: ContentStore) -> None:
    assert [c.type for c in get_cards(task, id="extra", store=store)] == ["blank"]
    assert [c.id for c in get_cards(task, type="default", store=store)] == [None]
    assert get_cards(task, type="nope", store=store) == []


def test_cli_helpers(task: FakeTask, store: ContentStore, tmp_path: Path, monkeypatch: Any) -> None:
    import stepwell.client

    monkeypatch.setattr(stepwell.client, "Task", lambda pathspec: task)
    assert list_cards("CardFlow/7/report/3", store=store) == [
        "0  type=default  id=-",
        "1  type=blank  id=extra",
    ]
    assert "default body" in card_html("CardFlow/7/report/3", type="default", store=store)
    with pytest.raises(NotFoundError, match="no card matching id='zzz'"):
        card_html("CardFlow/7/report/3", id="zzz", store=store)
    out = io.StringIO()
    path = view_card("CardFlow/7/report/3", id="extra", store=store, directory=tmp_path, out=out)
    assert out.getvalue().strip() == str(path) and "extra &lt;body&gt;" in path.read_text()
