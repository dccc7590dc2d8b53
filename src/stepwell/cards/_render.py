"""Rendering a card body: ``default`` (task report + components), ``blank``, error cards."""

from __future__ import annotations

import datetime as _dt
import traceback
from dataclasses import dataclass, field
from typing import Any

from stepwell.cards._collector import CardSlot
from stepwell.cards._html import esc, page_body
from stepwell.cards._preview import preview_html
from stepwell.cards._svg import render_graph_svg
from stepwell.exceptions import RuntimeFlowError


class CardRenderError(RuntimeFlowError):
    """A card failed to render and its ``@card(save_errors=False)`` makes the task fail."""

    headline = "card render failed"


@dataclass
class StoredValue:
    """An artifact not loaded for the card: what its ref says about it."""

    type_name: str
    size: int


@dataclass
class CardContext:
    """What a card shows about its task."""

    pathspec: str
    step_name: str
    artifacts: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    graph: Any = None
    started_at: float | None = None
    finished_at: float | None = None  # None while the task runs (a live card)


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "—"
    return _dt.datetime.fromtimestamp(epoch, tz=_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _value_html(value: Any) -> str:
    if isinstance(value, StoredValue):
        return (
            f'<span class="sw-muted">{esc(value.type_name)}, {value.size} bytes (not loaded)</span>'
        )
    return preview_html(value)


def _values_table(values: dict[str, Any]) -> str:
    if not values:
        return '<p class="sw-muted">None.</p>'
    rows = "".join(
        f"<tr><td><code>{esc(name)}</code></td><td>{_value_html(value)}</td></tr>"
        for name, value in sorted(values.items())
    )
    head = "<thead><tr><th>Name</th><th>Value</th></tr></thead>"
    return f'<table class="sw-table">{head}<tbody>{rows}</tbody></table>'


def _timing(ctx: CardContext) -> str:
    if ctx.finished_at is None:
        duration = "running"
    elif ctx.started_at is None:
        duration = "—"
    else:
        duration = f"{ctx.finished_at - ctx.started_at:.2f} s"
    return (
        f'<dl class="sw-timing"><dt>Started</dt><dd>{_when(ctx.started_at)}</dd>'
        f"<dt>Finished</dt><dd>{_when(ctx.finished_at)}</dd>"
        f"<dt>Duration</dt><dd>{esc(duration)}</dd></dl>"
    )


def _components(slot: CardSlot) -> str:
    return "".join(component.render() for component in slot.components)


def render_default(slot: CardSlot, ctx: CardContext) -> str:
    """The task report: header, timing, parameters, artifacts, graph, then user components."""
    parts = [
        f"<h1>{esc(ctx.pathspec)}</h1>",
        "<h2>Timing</h2>" + _timing(ctx),
        "<h2>Parameters</h2>" + _values_table(ctx.parameters),
        "<h2>Artifacts</h2>" + _values_table(ctx.artifacts),
    ]
    if ctx.graph is not None:
        parts.append(
            '<h2>Flow graph</h2><div class="sw-graph">'
            f"{render_graph_svg(ctx.graph, ctx.step_name)}</div>"
        )
    if slot.components:
        parts.append("<h2>Components</h2>" + _components(slot))
    return page_body(ctx.pathspec, "".join(parts))


def render_blank(slot: CardSlot, ctx: CardContext) -> str:
    """Only what the step added with ``current.card``."""
    return page_body(ctx.pathspec, _components(slot))


#: Card renderers by ``@card(type=...)``.
RENDERERS = {"default": render_default, "blank": render_blank}


def render_card(slot: CardSlot, ctx: CardContext) -> str:
    renderer = RENDERERS.get(slot.type)
    if renderer is None:
        raise CardRenderError(
            f"@card(type={slot.type!r}) is not a card type stepwell knows. "
            f"Types: {', '.join(sorted(RENDERERS))}."
        )
    return renderer(slot, ctx)


def render_error(slot: CardSlot, ctx: CardContext, exc: BaseException) -> str:
    """The card shown instead of one that failed to render: the traceback, escaped."""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    content = (
        f"<h1>{esc(ctx.pathspec)}</h1>"
        f'<div class="sw-error"><h3>Card {esc(slot.label)} failed to render</h3>'
        f'<pre class="sw-code">{esc(text)}</pre></div>'
    )
    return page_body(ctx.pathspec, content)
