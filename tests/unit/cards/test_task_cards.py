"""task_cards: collect components, render default/blank/error cards, store them, live refresh."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from stepwell.cards import CardRenderError, Markdown, ProgressBar, task_cards
from stepwell.cards._components import CardComponent
from stepwell.decorators import CardDecorator
from stepwell.store import ContentStore


class Exploding(CardComponent):
    def render(self) -> str:
        raise RuntimeError("boom <b>")


def _stored_html(store: ContentStore, record_text: str) -> str:
    record = json.loads(record_text)
    return bytes(store.load_blob(record["key"])).decode()


def test_default_card_shows_artifacts_parameters_graph_timing_and_components(
    FakeSpec: Any, card_node: Any, store: ContentStore, graph: Any, make_flow: Any
) -> None:
    flow = make_flow(rows=[1, 2, 3], alpha=3)
    node = card_node(CardDecorator())
    with task_cards(
        node, flow, FakeSpec(), store, 1000.0, graph=graph, clock=lambda: 1002.5
    ) as sink:
        sink.collector.append(Markdown("hello **card**"))
        flow.weights = np.ones((2, 5))
    assert list(sink.records) == ["card:default:0"]
    html = _stored_html(store, sink.records["card:default:0"])
    assert "CardFlow/7/report/3" in html
    assert "weights" in html and "shape (2, 5), dtype float64" in html  # set by the step
    assert "rows" in html and "[1, 2, 3]" in html  # inherited, loaded (small)
    assert "<h2>Parameters</h2>" in html and "alpha" in html.split("<h2>Artifacts</h2>")[0]
    assert "<svg" in html and 'class="sw-node sw-here" data-step="report"' in html
    assert 'data-step="start"' in html and "2.50 s" in html
    assert "<strong>card</strong>" in html
    assert "<style>" not in html  # the shared CSS is not in the card's own blob


def test_blank_card_has_only_user_components(
    FakeSpec: Any, card_node: Any, store: ContentStore, graph: Any, make_flow: Any
) -> None:
    flow = make_flow(rows=[1])
    node = card_node(CardDecorator(type="blank", id="extra"), CardDecorator())
    with task_cards(node, flow, FakeSpec(), store, 0.0, graph=graph) as sink:
        sink.collector.append(Markdown("to default"))
        sink.collector["extra"].append(Markdown("only extra"))
    # written order: @card (default) on top is index 0
    assert set(sink.records) == {"card:default:0", "card:blank:1"}
    blank = _stored_html(store, sink.records["card:blank:1"])
    assert "only extra" in blank and "to default" not in blank
    assert "<svg" not in blank and "rows" not in blank
    assert "to default" in _stored_html(store, sink.records["card:default:0"])


def test_shared_assets_are_stored_once(
    FakeSpec: Any, card_node: Any, store: ContentStore, graph: Any, make_flow: Any
) -> None:
    node = card_node(CardDecorator(type="blank", id="b"), CardDecorator())
    with task_cards(node, make_flow(), FakeSpec(), store, 0.0, graph=graph) as sink:
        pass
    records = [json.loads(text) for text in sink.records.values()]
    assert len({r["assets"] for r in records}) == 1
    assert len({r["key"] for r in records}) == 2
    assets = bytes(store.load_blob(records[0]["assets"])).decode()
    assert "<style>" in assets
    # a second task reuses the very same assets blob
    with task_cards(node, make_flow(), FakeSpec(task_id="4"), store, 0.0, graph=graph) as again:
        pass
    assert {json.loads(t)["assets"] for t in again.records.values()} == {records[0]["assets"]}
    keys = [k.removeprefix("objects/").replace("/", "") for k in store.storage.list("objects/")]
    payloads = [bytes(store.load_blob(key)) for key in keys]
    assert sum(1 for payload in payloads if b"sw-valuebox" in payload) == 1


def test_failing_component_gives_an_error_card(
    FakeSpec: Any, card_node: Any, store: ContentStore, graph: Any, make_flow: Any
) -> None:
    with task_cards(
        card_node(CardDecorator()), make_flow(), FakeSpec(), store, 0.0, graph=graph
    ) as sink:
        sink.collector.append(Exploding())
    record = json.loads(sink.records["card:default:0"])
    assert record["error"] is True
    html = _stored_html(store, sink.records["card:default:0"])
    assert "failed to render" in html and "RuntimeError: boom &lt;b&gt;" in html
    assert "boom <b>" not in html


def test_save_errors_false_fails_the_task(
    FakeSpec: Any, card_node: Any, store: ContentStore, graph: Any, make_flow: Any
) -> None:
    node = card_node(CardDecorator(save_errors=False))
    cards = task_cards(node, make_flow(), FakeSpec(), store, 0.0, graph=graph)
    with pytest.raises(CardRenderError, match="failed to render"), cards as sink:
        sink.collector.append(Exploding())
    assert sink.records == {}


def test_cards_render_when_the_step_fails(
    FakeSpec: Any, card_node: Any, store: ContentStore, graph: Any, make_flow: Any
) -> None:
    with (
        pytest.raises(ZeroDivisionError),
        task_cards(
            card_node(CardDecorator()), make_flow(), FakeSpec(), store, 0.0, graph=graph
        ) as sink,
    ):
        sink.collector.append(Markdown("partial"))
        1 / 0  # noqa: B018
    assert "partial" in _stored_html(store, sink.records["card:default:0"])


def test_refresh_writes_the_live_file_atomically_and_throttles(
    FakeSpec: Any, card_node: Any, store: ContentStore, graph: Any, make_flow: Any, tmp_path: Path
) -> None:
    now = [100.0]
    node = card_node(CardDecorator(refresh_interval=5))
    home = tmp_path / "home"
    with task_cards(
        node, make_flow(), FakeSpec(), store, 100.0, graph=graph, home=home, clock=lambda: now[0]
    ) as sink:
        bar = ProgressBar(max=10, label="epochs")
        sink.collector.append(bar)
        bar.update(3)
        sink.collector.refresh()
        live = home / "cards/live/CardFlow/7/report/3/default_0.html"
        first = live.read_text()
        assert 'value="3.0"' in first and "<style>" in first and "running" in first
        bar.update(4)
        now[0] += 1
        sink.collector.refresh()  # inside the interval: skipped
        assert live.read_text() == first
        now[0] += 5
        sink.collector.refresh()
        assert 'value="4.0"' in live.read_text()
        bar.update(10)
    final = live.read_text()
    assert 'value="10.0"' in final and "running" not in final
    assert [p.name for p in live.parent.iterdir()] == ["default_0.html"]  # no temp files left


def test_collector_errors(
    FakeSpec: Any, card_node: Any, store: ContentStore, graph: Any, make_flow: Any
) -> None:
    node = card_node(CardDecorator(type="blank", id="only"))
    with task_cards(node, make_flow(), FakeSpec(), store, 0.0, graph=graph) as sink:
        with pytest.warns(UserWarning, match="Markdown"):  # Metaflow warns and skips too
            sink.collector["only"].append("text")  # type: ignore[arg-type]
        assert sink.collector.components["only"] == []
        with pytest.warns(UserWarning, match=r"no @card\(id='nope'\).*Card ids: 'only'"):
            sink.collector["nope"].append(Markdown("dropped"))
        sink.collector.append(Markdown("goes to the only card"))
        sink.collector["only"].extend([Markdown("second")])
        assert len(sink.collector.components["only"]) == 2
        sink.collector["only"].clear()
        assert sink.collector.components == {"only": []}
