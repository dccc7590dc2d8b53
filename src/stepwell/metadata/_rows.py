"""The pieces the SQL store assembles: SQL fragments, parameter rows, records.

Rows come back from the driver as tuples in the order of the column lists
here; conversion to records happens in one place.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from stepwell.exceptions import MetadataError
from stepwell.metadata._database import Query
from stepwell.metadata._records import TaskRecord

if TYPE_CHECKING:
    from stepwell.metadata._launches import TaskLaunch, TaskOutcome

RUN_COLUMNS = (
    "r.run_id, r.flow_name, r.user_name, r.status, r.parameters, r.started_at, r.finished_at,"
    " r.heartbeat_at, r.pid, r.host, r.origin_run_id, r.code_key, r.error, r.datastore"
)
TASK_COLUMNS = (
    "t.run_id, t.step_name, t.task_id, t.attempt, t.status, t.started_at, t.finished_at,"
    " t.foreach_stack, t.foreach_index, t.exception, t.origin_pathspec, t.next_steps,"
    " t.split_count"
)
LATEST_ATTEMPT = (
    "t.attempt = (SELECT MAX(x.attempt) FROM tasks x"
    " WHERE x.run_id = t.run_id AND x.task_id = t.task_id)"
)
TASK_ORDER = "ORDER BY t.started_at, t.task_id"
RUN_STATUSES = ("running", "succeeded", "failed")
_TAG_CHUNK = 500  # run ids per IN (...) when loading tags


def check_name(kind: str, value: object) -> str:
    if not isinstance(value, str) or not value or "/" in value:
        raise MetadataError(
            f"Invalid {kind} {value!r}: expected a non-empty string without '/'.",
            value=value,
        )
    return value


def check_tags(tags: Sequence[str]) -> list[str]:
    if isinstance(tags, str):
        raise MetadataError(f"Tags must be a sequence of strings, not the string {tags!r}.")
    for tag in tags:
        if not isinstance(tag, str) or not tag.strip():
            raise MetadataError(f"Invalid tag {tag!r}: expected a non-empty string.", tag=tag)
    return list(dict.fromkeys(tags))


def run_filters(
    flow_name: str, user: str | None, since: float | None, until: float | None, tags: list[str]
) -> tuple[list[str], list[Any]]:
    """WHERE clauses (joined by AND) and their parameters for ``list_runs``."""
    where: list[str] = ["r.flow_name = ?"]
    params: list[Any] = [flow_name]
    for clause, value in (
        ("r.user_name = ?", user),
        ("r.started_at >= ?", since),
        ("r.started_at < ?", until),
    ):
        if value is not None:
            where.append(clause)
            params.append(value)
    for tag in tags:
        where.append("EXISTS (SELECT 1 FROM run_tags g WHERE g.run_id = r.run_id AND g.tag = ?)")
        params.append(tag)
    return where, params


def check_task_ids(task: TaskLaunch | TaskOutcome) -> None:
    check_name("flow name", task.flow_name)
    check_name("step name", task.step_name)
    check_name("task id", task.task_id)
    if not isinstance(task.attempt, int) or task.attempt < 0:
        raise MetadataError(
            f"Invalid attempt {task.attempt!r} for task {task.pathspec}: expected an integer >= 0.",
            pathspec=task.pathspec,
        )


def outcome_row(keys: dict[tuple[str, str], int], o: TaskOutcome, now: float) -> tuple:
    finished = now if o.finished_at is None else o.finished_at
    return (
        keys[(o.flow_name, o.run_id)],
        o.task_id,
        o.attempt,
        o.step_name,
        o.status,
        finished if o.started_at is None else o.started_at,
        finished,
        o.foreach_stack,
        o.index,
        o.exception,
        o.origin_pathspec,
        json.dumps(list(o.next_steps)),
        o.split_count,
    )


Keys = dict[tuple[str, str], int]
"""The integer key of each ``(flow_name, run_id)`` a write touches."""


def artifact_rows(keys: Keys, outcomes: Iterable[TaskOutcome]) -> list[tuple[Any, ...]]:
    return [
        (
            keys[o.flow_name, o.run_id],
            *(o.task_id, o.attempt, a.name, a.key, a.serializer, a.type_name, a.size, a.meta),
        )
        for o in outcomes
        for a in o.artifacts
    ]


def metadata_rows(keys: Keys, outcomes: Iterable[TaskOutcome]) -> list[tuple[Any, ...]]:
    return [
        (keys[o.flow_name, o.run_id], o.task_id, o.attempt, name, value)
        for o in outcomes
        for name, value in o.metadata.items()
    ]


def read_rows(keys: Keys, outcomes: Iterable[TaskOutcome]) -> list[tuple[Any, ...]]:
    return [
        (keys[o.flow_name, o.run_id], o.task_id, o.attempt, name, blob_key)
        for o in outcomes
        for name, blob_key in dict.fromkeys(o.reads)
    ]


def parent_rows(keys: Keys, tasks: Iterable[TaskLaunch | TaskOutcome]) -> list[tuple[Any, ...]]:
    return [
        (keys[t.flow_name, t.run_id], t.task_id, parent)
        for t in tasks
        for parent in dict.fromkeys(t.parent_task_ids)
    ]


def task_record(flow_name: str, row: Any) -> TaskRecord:
    return TaskRecord(
        flow_name=flow_name,
        run_id=str(row[0]),
        step_name=row[1],
        task_id=row[2],
        attempt=row[3],
        status=row[4],
        started_at=row[5],
        finished_at=row[6],
        foreach_stack=row[7],
        index=row[8],
        exception=row[9],
        origin_pathspec=row[10],
        next_steps=tuple(json.loads(row[11])),
        split_count=row[12],
    )


def load_tags(q: Query, keys: Sequence[int]) -> dict[int, tuple[tuple[str, ...], tuple[str, ...]]]:
    """User and system tags of each run, sorted."""
    found: dict[int, tuple[list[str], list[str]]] = {key: ([], []) for key in keys}
    for start in range(0, len(keys), _TAG_CHUNK):
        chunk = keys[start : start + _TAG_CHUNK]
        marks = ", ".join("?" * len(chunk))
        for key, is_system, tag in q.all(
            f"SELECT run_id, is_system, tag FROM run_tags WHERE run_id IN ({marks})", chunk
        ):
            found[key][1 if is_system else 0].append(tag)
    return {k: (tuple(sorted(u)), tuple(sorted(s))) for k, (u, s) in found.items()}
