"""Reading cards back: ``get_cards`` through the Client API, and the CLI helpers."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

from stepwell.cards._html import assemble_page
from stepwell.exceptions import NotFoundError

RECORD_PREFIX = "card:"


class Card:
    """One stored card of a task; ``card.get()`` is the self-contained HTML page.

    In a notebook the card displays itself (``_repr_html_``).
    """

    def __init__(self, store: Any, record: dict[str, Any], name: str, pathspec: str) -> None:
        self._store = store
        self._record = record
        self.name = name
        self.pathspec = pathspec
        self._html: str | None = None

    @property
    def id(self) -> str | None:
        return self._record.get("id")

    @property
    def type(self) -> str:
        return str(self._record.get("type"))

    @property
    def hash(self) -> str:
        """The content key of the card's body: the same card has the same hash."""
        return str(self._record.get("key"))

    @property
    def index(self) -> int:
        return int(self.name.rsplit(":", 1)[-1])

    @property
    def is_error(self) -> bool:
        """True when the card failed to render and this is the error card in its place."""
        return bool(self._record.get("error"))

    def get(self) -> str:
        """The full HTML page, shared assets inlined (loaded once, then kept)."""
        if self._html is None:
            context = f"card {self.name} of task {self.pathspec}"
            body = bytes(self._store.load_blob(self._record["key"], context=context))
            assets = bytes(self._store.load_blob(self._record["assets"], context=context))
            self._html = assemble_page(body.decode("utf-8"), assets.decode("utf-8"))
        return self._html

    @property
    def html(self) -> str:
        return self.get()

    def _repr_html_(self) -> str:
        return self.get()

    def __repr__(self) -> str:
        return f"Card(type={self.type!r}, id={self.id!r}, pathspec={self.pathspec!r})"


def _store_of(task: Any) -> Any:
    """The content store of the task's run (where its run recorded its blobs)."""
    from stepwell.client._backend import get_backend

    return get_backend().store_for(getattr(task, "_run", None))


def get_cards(
    task: Any, id: str | None = None, type: str | None = None, *, store: Any = None
) -> list[Card]:
    """The cards of ``task`` (a client ``Task`` or its pathspec), filtered by ``id``/``type``.

    Example:
        >>> html = get_cards("TrainFlow/12/train/3", type="default")[0].get()  # doctest: +SKIP
    """
    if isinstance(task, str):
        from stepwell.client import Task

        task = Task(task)
    store = store if store is not None else _store_of(task)
    cards = [
        Card(store, json.loads(value), name, task.pathspec)
        for name, value in task.metadata_dict.items()
        if name.startswith(RECORD_PREFIX)
    ]
    cards.sort(key=lambda card: card.index)
    return [
        card
        for card in cards
        if (id is None or card.id == id) and (type is None or card.type == type)
    ]


def _matching(
    pathspec: str, id: str | None, type: str | None, hash: str | None, store: Any
) -> list[Card]:
    cards = get_cards(pathspec, id=id, type=type, store=store)
    return [card for card in cards if hash is None or card.hash.startswith(hash)]


def list_cards(
    pathspec: str,
    *,
    id: str | None = None,
    type: str | None = None,
    hash: str | None = None,
    store: Any = None,
) -> list[str]:
    """One line per card of the task at ``pathspec`` (for ``card list``)."""
    lines = []
    for card in _matching(pathspec, id, type, hash, store):
        error = "  (render failed: error card)" if card.is_error else ""
        lines.append(f"{card.index}  type={card.type}  id={card.id or '-'}{error}")
    return lines or [f"Task {pathspec} has no cards."]


def card_summaries(
    pathspec: str,
    *,
    id: str | None = None,
    type: str | None = None,
    hash: str | None = None,
    store: Any = None,
) -> dict[str, Any]:
    """``{"pathspec", "cards": [{"id", "hash", "type", "index"}]}`` (``card list --as-json``)."""
    cards = _matching(pathspec, id, type, hash, store)
    return {
        "pathspec": pathspec,
        "cards": [
            {"id": card.id, "hash": card.hash, "type": card.type, "index": card.index}
            for card in cards
        ],
    }


def card_html(
    pathspec: str,
    id: str | None = None,
    type: str | None = None,
    *,
    hash: str | None = None,
    store: Any = None,
) -> str:
    """The HTML of the first card of ``pathspec`` matching the filters (``card get``)."""
    cards = _matching(pathspec, id, type, hash, store)
    if not cards and not get_cards(pathspec, store=store):
        raise NotFoundError(f"Task {pathspec} has no cards.")
    if not cards:
        wanted = (
            ", ".join(f"{k}={v!r}" for k, v in (("id", id), ("type", type), ("hash", hash)) if v)
            or "any"
        )
        available = "; ".join(list_cards(pathspec, store=store))
        raise NotFoundError(
            f"Task {pathspec} has no card matching {wanted}. Cards: {available}. "
            f"See them with: card list {pathspec}"
        )
    return cards[0].get()


def view_card(
    pathspec: str,
    id: str | None = None,
    type: str | None = None,
    *,
    hash: str | None = None,
    store: Any = None,
    directory: Path | str | None = None,
    out: TextIO | None = None,
) -> Path:
    """Write the card's HTML to a temporary file, print its path and return it (``card view``)."""
    html = card_html(pathspec, id=id, type=type, hash=hash, store=store)
    fd, name = tempfile.mkstemp(prefix="stepwell-card-", suffix=".html", dir=directory)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(html)
    print(name, file=out or sys.stdout)
    return Path(name)
