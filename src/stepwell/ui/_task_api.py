"""The JSON endpoints of one task: details and artifacts, live logs, cards."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from stepwell.client._backend import get_backend
from stepwell.ui._dag import task_brief
from stepwell.ui._params import STREAMS, ApiError, Query
from stepwell.ui._preview import preview

#: Log lines per response; the page asks again with ``after`` for more.
LOG_LINES_MAX = 5000
ARTIFACTS_MAX = 500


def _pathspec(params: dict[str, str]) -> str:
    return f"{params['flow']}/{params['run']}/{params['step']}/{params['task']}"


def _task(params: dict[str, str], query: Query) -> Any:
    from stepwell.client import Task

    attempt = query.text("attempt")
    number = None if attempt is None else query.integer("attempt", 0, 0, 1000)
    return Task(_pathspec(params), attempt=number, _namespace_check=False)


def _origin_kind(meta: Any, parts: Any, origin: str | None) -> str | None:
    if origin is None:
        return None
    return "cache" if "cached_from" in meta.get_task_metadata(*parts) else "resume"


def get_task(params: dict[str, str], query: Query) -> Any:
    task = _task(params, query)
    record = task._task
    meta = get_backend().metadata
    parts = task.path_components
    attempts = [
        record if n == record.attempt else meta.get_task(*parts, attempt=n)
        for n in range(task.current_attempt + 1)
    ]
    return {
        "task": {
            **task_brief(record),
            "flow": parts[0],
            "run": parts[1],
            "exception": record.exception,
            "origin_pathspec": record.origin_pathspec,
            # "cache" when @cache reused the origin task, "resume" when resume cloned it
            "origin_kind": _origin_kind(meta, parts, record.origin_pathspec),
            "next_steps": list(record.next_steps),
        },
        "attempts": [
            {
                "attempt": a.attempt,
                "status": a.status,
                "started_at": a.started_at,
                "finished_at": a.finished_at,
                "exception": a.exception,
            }
            for a in attempts
        ],
        "artifacts": _artifacts(task),
        "parents": [t.pathspec for t in meta.parent_tasks(*parts)][:200],
        "children": [t.pathspec for t in meta.child_tasks(*parts)][:200],
        "logs": {"stdout_size": task.stdout_size, "stderr_size": task.stderr_size},
    }


def _artifacts(task: Any) -> list[dict[str, Any]]:
    backend = get_backend()
    found = []
    for name, rec in sorted(task._artifact_records().items())[:ARTIFACTS_MAX]:
        context = f"artifact '{task.pathspec}/{name}'"
        found.append({
            "name": name, "type": rec.type_name, "size": rec.size, "sha": rec.key,
            "preview": preview(rec, _loader(backend, rec, context, task._run)),
        })  # fmt: skip
    return found


def _loader(backend: Any, record: Any, context: str, run: Any) -> Any:
    return lambda: backend.load_artifact(record, context, run)


def get_logs(params: dict[str, str], query: Query) -> Any:
    stream = query.choice("stream", STREAMS, "stdout")
    after = query.integer("after", 0, 0, 10**9)
    task = _task(params, query)
    lines = task.loglines(stream)
    page = list(itertools.islice(lines, after, after + LOG_LINES_MAX))
    more = next(lines, None) is not None
    return {
        "stream": stream, "attempt": task._task.attempt, "after": after,
        "next": after + len(page), "more": more,
        "finished": task._fresh().status != "running",
        "lines": [[when.isoformat() if when else None, str(text)] for when, text in page],
    }  # fmt: skip


class _LiveCard:
    """A card of a running task, as its last ``current.card.refresh()`` wrote it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.id = None
        self.type = path.stem.rsplit("_", 1)[0]
        self.live = True

    def get(self) -> str:
        return self.path.read_text(encoding="utf-8")


def _cards(params: dict[str, str]) -> list[Any] | None:
    """The task's stored cards; while it runs, the live renderings its refresh() wrote."""
    try:
        from stepwell.cards import get_cards, live_card_path
    except ImportError:
        return None
    stored = list(get_cards(_pathspec(params)))
    if stored:
        return stored
    folder = live_card_path(_home(), _pathspec(params), "x").parent
    return [_LiveCard(p) for p in sorted(folder.glob("*.html"))] if folder.is_dir() else []


def _home() -> Path:
    from stepwell.config import load_settings

    return Path(load_settings().home)


def list_cards(params: dict[str, str], query: Query) -> Any:
    _task(params, query)  # 404 for an unknown task
    cards = _cards(params)
    if cards is None:
        return {"available": False, "cards": []}
    return {
        "available": True,
        "cards": [
            {
                "index": i,
                "id": getattr(c, "id", None),
                "type": getattr(c, "type", None),
                "live": getattr(c, "live", False),
            }
            for i, c in enumerate(cards)
        ],
    }


def get_card(params: dict[str, str], query: Query) -> Any:
    _task(params, query)
    cards = _cards(params) or []
    index = int(params["index"])
    if index >= len(cards):
        raise ApiError(404, f"Task {_pathspec(params)} has {len(cards)} card(s); no card {index}.")
    return ("text/html; charset=utf-8", str(cards[index].get()).encode("utf-8"))
