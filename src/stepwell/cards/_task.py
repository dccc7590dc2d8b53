"""The task side: ``task_cards`` wraps a step, collects components, renders and stores cards.

Stored layout: each card is two content-addressed blobs, its body and the
shared assets (identical bytes for every card, so stored once). The task's
metadata gets one entry per ``@card``: ``card:<type>:<index>`` ->
``{"type", "id", "key", "assets", "error"}`` as JSON.

Live cards: ``current.card.refresh()`` writes the current rendering, assets
inlined, to ``<home>/cards/live/<flow>/<run>/<step>/<task>/<type>_<index>.html``
(tmp file + rename, so a poller never reads half a page); the final rendering
replaces it when the task ends.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from stepwell.cards._collector import CardCollector, CardSlot
from stepwell.cards._html import VEGA_MARK, assemble_page, shared_assets
from stepwell.cards._render import (
    CardContext,
    CardRenderError,
    StoredValue,
    render_card,
    render_error,
)

#: Inherited artifacts up to this size are loaded for a preview; larger ones are not.
PREVIEW_MAX_BYTES = 64 << 10


def live_card_path(home: Path | str, pathspec: str, slot_file: str) -> Path:
    """Where the live rendering of one card of task ``pathspec`` is written."""
    flow, run, step, task = pathspec.split("/")
    return Path(home) / "cards" / "live" / flow / run / step / task / f"{slot_file}.html"


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".html")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _render_in_time(slot: CardSlot, ctx: CardContext) -> str:
    """Render on a helper thread; a card slower than ``@card(timeout=...)`` fails."""
    result: dict[str, Any] = {}

    def work() -> None:
        try:
            result["html"] = render_card(slot, ctx)
        except BaseException as exc:  # reported to the caller below
            result["error"] = exc

    worker = threading.Thread(target=work, name=f"stepwell-card-{slot.label}", daemon=True)
    worker.start()
    worker.join(slot.timeout)
    if worker.is_alive():
        raise CardRenderError(
            f"Card {slot.label} took more than {slot.timeout} s to render (@card(timeout=...))."
        )
    if "error" in result:
        raise result["error"]
    return str(result["html"])


class CardSink:
    """The cards of one task: ``collector`` is ``current.card``; ``records`` the metadata."""

    def __init__(
        self,
        slots: list[CardSlot],
        make_context: Callable[[float | None], CardContext],
        store: Any,
        pathspec: str,
        home: Path | None,
        clock: Callable[[], float],
    ) -> None:
        self.slots = slots
        self.collector = CardCollector(slots, self.refresh)
        self.records: dict[str, str] = {}
        self.errors: list[BaseException] = []
        self._make_context = make_context
        self._store = store
        self._pathspec = pathspec
        self._home = home
        self._clock = clock
        self._last_refresh: float | None = None

    def live_path(self, slot: CardSlot) -> Path | None:
        """The live file of ``slot`` (None when no home directory was given)."""
        if self._home is None:
            return None
        return live_card_path(self._home, self._pathspec, f"{slot.type}_{slot.index}")

    def refresh(self, force: bool = False) -> None:
        """Write each card's current rendering to its live file (at most once per interval)."""
        now = self._clock()
        interval = min((s.refresh_interval for s in self.slots), default=0)
        if not force and self._last_refresh is not None and now - self._last_refresh < interval:
            return
        self._last_refresh = now
        ctx = self._make_context(None)
        for slot in self.slots:
            path = self.live_path(slot)
            if path is None:
                continue
            try:
                body = _render_in_time(slot, ctx)
            except Exception as exc:  # a live card never fails the task
                body = render_error(slot, ctx, exc)
            _write_atomic(path, assemble_page(body, shared_assets(VEGA_MARK in body).decode()))

    def finish(self) -> None:
        """Render every card for good, store it, fill ``records``; errors go to ``errors``."""
        ctx = self._make_context(self._clock())
        for slot in self.slots:
            failed = False
            try:
                body = _render_in_time(slot, ctx)
            except Exception as exc:
                if not slot.save_errors:
                    self.errors.append(exc)
                    continue
                body, failed = render_error(slot, ctx, exc), True
            assets = shared_assets(VEGA_MARK in body)
            body_ref, assets_ref = self._store.save_blobs([body.encode(), assets])
            record = {
                "type": slot.type,
                "id": slot.id,
                "key": body_ref.key,
                "assets": assets_ref.key,
                "error": failed,
            }
            self.records[slot.record_name] = json.dumps(record)
            path = self.live_path(slot)
            if path is not None and path.exists():
                _write_atomic(path, assemble_page(body, assets.decode()))


def card_slots(node: Any) -> list[CardSlot]:
    """One slot per ``@card`` on ``node``, in the order they are written."""
    # node.decorators lists the decorator nearest the function first; index top-down.
    decorators = [d for d in reversed(node.decorators) if getattr(d, "NAME", None) == "card"]
    return [
        CardSlot(
            type=d.type,
            id=d.id,
            index=index,
            options=dict(d.options or {}),
            timeout=d.timeout,
            refresh_interval=d.refresh_interval,
            save_errors=d.save_errors,
        )
        for index, d in enumerate(decorators)
    ]


def _artifact_values(flow: Any, store: Any, cache: dict[str, Any]) -> dict[str, Any]:
    """What the step set (and read) from ``vars(flow)``, then inherited refs: small ones loaded."""
    values = {k: v for k, v in vars(flow).items() if not k.startswith("_")}
    state = vars(flow).get("_sw_state")
    for name, ref in dict(getattr(state, "inherited", {}) or {}).items():
        if name.startswith("_") or name in values:
            continue
        if name not in cache:
            cache[name] = _load_small(store, ref)
        values[name] = cache[name]
    return values


def _load_small(store: Any, ref: Any) -> Any:
    stored = StoredValue(str(getattr(ref, "type_name", "?")), int(getattr(ref, "size", 0)))
    if stored.size > PREVIEW_MAX_BYTES:
        return stored
    try:
        from stepwell.store import load_artifact

        return load_artifact(store, ref, context="card preview")
    except Exception:  # a preview is best effort: show what the ref says
        return stored


@contextmanager
def task_cards(
    node: Any,
    flow: Any,
    spec: Any,
    store: Any,
    started_at: float,
    *,
    graph: Any = None,
    home: Path | str | None = None,
    clock: Callable[[], float] = time.time,
) -> Iterator[CardSink]:
    """Wrap one run of a step that has ``@card`` decorators.

    Inside, put ``sink.collector`` in ``current`` as ``card``. On exit (success
    or failure) every card is rendered and stored, and ``sink.records`` holds
    the task-metadata entries to record. A card that fails to render becomes an
    error card when ``save_errors`` (the default); otherwise, if the step
    itself succeeded, :class:`CardRenderError` is raised after the others are stored.

    ``graph`` defaults to ``build_graph(type(flow))``; ``home`` (STEPWELL_HOME)
    enables live files for ``refresh()``.
    """
    cache: dict[str, Any] = {}
    parameter_names = set(getattr(type(flow), "_sw_parameters", dict)())
    pathspec = f"{spec.flow_name}/{spec.run_id}/{spec.step_name}/{spec.task_id}"
    if graph is None:
        graph = _graph_of(flow)

    def make_context(finished_at: float | None) -> CardContext:
        values = _artifact_values(flow, store, cache)
        params = {k: values.pop(k) for k in list(values) if k in parameter_names}
        return CardContext(pathspec, spec.step_name, values, params, graph, started_at, finished_at)

    sink = CardSink(
        card_slots(node), make_context, store, pathspec, Path(home) if home else None, clock
    )
    step_failed = False
    try:
        yield sink
    except BaseException:
        step_failed = True
        raise
    finally:
        sink.finish()
        if sink.errors and not step_failed:
            first = sink.errors[0]
            raise CardRenderError(
                f"A card of {pathspec} failed to render (@card(save_errors=False)): {first!r}"
            ) from first


def _graph_of(flow: Any) -> Any:
    try:
        from stepwell.graph import build_graph

        return build_graph(type(flow))
    except Exception:  # no source (e.g. an interactive flow): the card has no graph
        return None
