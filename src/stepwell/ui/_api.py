"""The JSON endpoints for flows, runs and run comparisons (tasks are in ``_task_api.py``).

Each handler takes the validated path parameters and the query, and returns a
JSON-ready value; errors are raised as :class:`ApiError` or the client's
``NotFoundError`` (the server maps it to 404).
"""

from __future__ import annotations

import json
import time
from typing import Any

from stepwell.client._backend import get_backend
from stepwell.ui._dag import summarize_tasks
from stepwell.ui._params import RUN_STATUSES, ApiError, Query, run_pathspec
from stepwell.ui._preview import preview

PAGE = 50
PAGE_MAX = 500


def _meta() -> Any:
    return get_backend().metadata


def run_brief(record: Any, now: float | None = None) -> dict[str, Any]:
    """The fields of a run record shown in tables."""
    end = record.finished_at
    if end is None and record.status == "running":
        end = now if now is not None else time.time()
    return {
        "flow": record.flow_name, "id": record.run_id, "pathspec": record.pathspec,
        "status": record.status, "user": record.user, "tags": sorted(record.tags),
        "system_tags": sorted(record.system_tags), "started_at": record.started_at,
        "finished_at": record.finished_at,
        "duration": None if end is None else max(0.0, end - record.started_at),
        "error": record.error, "origin_run_id": record.origin_run_id,
        "datastore": record.datastore, "code_key": record.code_key,
    }  # fmt: skip


def parameters_of(record: Any) -> dict[str, Any]:
    """A run's parameters, decoded from JSON text (kept as text when not JSON)."""
    values: dict[str, Any] = {}
    for name, text in sorted(record.parameters.items()):
        try:
            values[name] = json.loads(text)
        except (ValueError, TypeError):
            values[name] = text
    return values


def list_flows(params: dict[str, str], query: Query) -> Any:
    meta = _meta()
    flows = []
    for name in meta.list_flows():
        latest = meta.latest_run(name)
        flows.append({"name": name, "latest_run": run_brief(latest) if latest else None})
    return {"flows": flows}


def list_runs(params: dict[str, str], query: Query) -> Any:
    flow = params["flow"]
    limit = query.integer("limit", PAGE, 1, PAGE_MAX)
    offset = query.integer("offset", 0, 0, 10**9)
    filters = {
        "status": query.choice("status", RUN_STATUSES),
        "user": query.text("user"),
        "tags": query.all("tag"),
        "since": query.epoch("since"),
        "until": query.epoch("until"),
    }
    meta = _meta()
    if flow not in meta.list_flows():
        raise ApiError(404, f"Flow {flow!r} has no runs in this store.")
    records = meta.list_runs(flow, limit=limit + 1, offset=offset, **filters)
    now = time.time()
    return {
        "flow": flow, "limit": limit, "offset": offset, "has_more": len(records) > limit,
        "filters": {k: v for k, v in filters.items() if v},
        "runs": [run_brief(r, now) for r in records[:limit]],
    }  # fmt: skip


def get_run(params: dict[str, str], query: Query) -> Any:
    meta = _meta()
    record = meta.get_run(params["flow"], params["run"])
    now = time.time()
    tasks = meta.list_tasks(params["flow"], params["run"])
    summary = summarize_tasks(tasks, now)
    return {
        "run": {**run_brief(record, now), "parameters": parameters_of(record)},
        "dag": {"steps": summary["steps"], "edges": summary["edges"]},
        "timeline": summary["timeline"],
        "tasks": summary["tasks"],
        "now": now,
    }


def get_code(params: dict[str, str], query: Query) -> Any:
    """The run's code package: its files, and the flow file's source."""
    from stepwell.client._backend import get_backend
    from stepwell.client._code import code_of

    record = _meta().get_run(params["flow"], params["run"])
    code = code_of(get_backend(), record)
    if code is None:
        raise ApiError(404, f"Run {record.pathspec} stored no code package.")
    with code.tarball as tar:
        files = sorted(m.name for m in tar.getmembers() if m.isfile() and m.name != "INFO")
    return {"path": code.path, "info": code.info, "files": files, "flowspec": code.flowspec}


def compare(params: dict[str, str], query: Query) -> Any:
    from stepwell.client import Run, compare_runs
    from stepwell.exceptions import NotFoundError

    a = Run("/".join(run_pathspec(query.required("a"), "a")), _namespace_check=False)
    b = Run("/".join(run_pathspec(query.required("b"), "b")), _namespace_check=False)
    meta = _meta()
    sides = [meta.get_run(*a.path_components), meta.get_run(*b.path_components)]
    result: dict[str, Any] = {
        "a": {**run_brief(sides[0]), "parameters": parameters_of(sides[0])},
        "b": {**run_brief(sides[1]), "parameters": parameters_of(sides[1])},
        "steps": _step_timings(meta, a.path_components, b.path_components),
    }
    try:
        diff = compare_runs(a, b)
    except NotFoundError as exc:
        result["artifacts"] = None
        result["artifacts_note"] = str(exc)
        return result
    result["parameters_different"] = sorted(diff.parameters_different)
    result["artifacts"] = _artifact_rows(a, b, diff)
    return result


def _step_timings(meta: Any, a: list[str], b: list[str]) -> list[dict[str, Any]]:
    now = time.time()
    per_side = [summarize_tasks(meta.list_tasks(*parts), now)["steps"] for parts in (a, b)]
    names = [s["name"] for s in per_side[0]]
    names += [s["name"] for s in per_side[1] if s["name"] not in names]
    rows = []
    for name in names:
        row: dict[str, Any] = {"step": name}
        for key, steps in zip(("a", "b"), per_side, strict=True):
            found = next((s for s in steps if s["name"] == name), None)
            row[key] = None if found is None else {
                "tasks": found["tasks"], "status": found["status"],
                "duration": found["finished_at"] - found["started_at"],
            }  # fmt: skip
        rows.append(row)
    return rows


def _artifact_rows(a: Any, b: Any, diff: Any) -> list[dict[str, Any]]:
    backend = get_backend()
    ends = [a.end_task, b.end_task]
    records = [end._artifact_records() for end in ends]
    state = {n: "same" for n in diff.artifacts_same}
    state.update({n: "different" for n in diff.artifacts_different})
    state.update({n: "only_a" for n in diff.artifacts_only_in_a})
    state.update({n: "only_b" for n in diff.artifacts_only_in_b})
    rows = []
    for name in sorted(state)[:200]:
        row: dict[str, Any] = {"name": name, "state": state[name]}
        for key, recs, end in zip(("a", "b"), records, ends, strict=True):
            rec = recs.get(name)
            row[key] = None if rec is None else {
                "type": rec.type_name, "size": rec.size, "sha": rec.key,
                "preview": preview(rec, _loader(backend, rec, f"{end.pathspec}/{name}", end._run)),
            }  # fmt: skip
        rows.append(row)
    return rows


def _loader(backend: Any, record: Any, pathspec: str, run: Any) -> Any:
    return lambda: backend.load_artifact(record, f"artifact '{pathspec}'", run)
