"""NotFoundError messages: the pathspec that is missing and what exists near it.

These run only after a lookup missed, so they may cost a few extra queries;
each one is bounded (no query reads all runs or all tasks of a large step).
"""

from __future__ import annotations

from stepwell.exceptions import NotFoundError
from stepwell.metadata._database import Query

_MAX_CANDIDATES = 1000  # names compared by difflib at most
_MAX_LISTED = 12  # names listed in a message at most


def _did_you_mean(name: str, candidates: list[str]) -> str:
    import difflib  # late: only an error message needs it

    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
    if not close:
        return ""
    return " Did you mean " + " or ".join(f"'{c}'" for c in close) + "?"


def _listing(label: str, names: list[str]) -> str:
    if not names:
        return ""
    shown = ", ".join(names[:_MAX_LISTED])
    more = f", ... ({len(names) - _MAX_LISTED} more)" if len(names) > _MAX_LISTED else ""
    return f"\n{label}: {shown}{more}."


def _looking_up(missing: str, pathspec: str) -> str:
    return f" (looking up '{pathspec}')" if pathspec != missing else ""


def flow_not_found(q: Query, flow_name: str, pathspec: str | None = None) -> NotFoundError:
    pathspec = pathspec or flow_name
    flows = [row[0] for row in q.all("SELECT name FROM flows ORDER BY name")]
    message = f"No flow '{flow_name}' in the metadata store{_looking_up(flow_name, pathspec)}."
    message += _did_you_mean(flow_name, flows)
    message += _listing("Flows recorded", flows) or "\nNo flow has been run yet."
    return NotFoundError(message, pathspec=pathspec, candidates=flows[:_MAX_LISTED])


def run_key(run_id: str) -> int | None:
    """The integer key of a run id, or ``None`` if it cannot be one."""
    if isinstance(run_id, str) and run_id.isascii() and run_id.isdigit():
        key = int(run_id)
        return key if key > 0 else None
    return None


def run_not_found(
    q: Query, flow_name: str, run_id: str, pathspec: str | None = None
) -> NotFoundError:
    run_pathspec = f"{flow_name}/{run_id}"
    pathspec = pathspec or run_pathspec
    if q.one("SELECT name FROM flows WHERE name = ?", (flow_name,)) is None:
        return flow_not_found(q, flow_name, pathspec)
    message = f"No run '{run_pathspec}'{_looking_up(run_pathspec, pathspec)}."
    key = run_key(run_id)
    if key is None:
        message += f" Run ids are positive integers, not {run_id!r}."
    else:
        other = q.one("SELECT flow_name FROM runs WHERE run_id = ?", (key,))
        if other is not None:
            message += f" Run {run_id} belongs to flow {other[0]} ('{other[0]}/{run_id}')."
    latest = q.one(
        "SELECT run_id FROM runs WHERE flow_name = ? ORDER BY run_id DESC LIMIT 1", (flow_name,)
    )
    if latest is not None:
        message += f"\nThe latest run of {flow_name} is '{flow_name}/{latest[0]}'."
    return NotFoundError(message, pathspec=pathspec)


def steps_of_run(q: Query, key: int) -> list[str]:
    rows = q.all(
        "SELECT step_name FROM tasks WHERE run_id = ? GROUP BY step_name"
        " ORDER BY MIN(started_at), step_name",
        (key,),
    )
    return [row[0] for row in rows]


def step_not_found(
    q: Query, flow_name: str, run_id: str, key: int, step: str, pathspec: str | None = None
) -> NotFoundError:
    step_pathspec = f"{flow_name}/{run_id}/{step}"
    pathspec = pathspec or step_pathspec
    steps = steps_of_run(q, key)
    message = f"No step '{step_pathspec}'{_looking_up(step_pathspec, pathspec)}."
    message += _did_you_mean(step, steps)
    message += _listing(f"Steps of run {flow_name}/{run_id}", steps) or (
        f"\nRun {flow_name}/{run_id} has no tasks yet."
    )
    return NotFoundError(message, pathspec=pathspec, candidates=steps[:_MAX_LISTED])


def task_not_found(
    q: Query,
    flow_name: str,
    run_id: str,
    key: int,
    step: str,
    task_id: str,
    attempt: int | None,
) -> NotFoundError:
    """Why ``flow/run/step/task_id`` (and ``attempt``) is missing; the run exists."""
    pathspec = f"{flow_name}/{run_id}/{step}/{task_id}"
    rows = q.all(
        "SELECT step_name, attempt FROM tasks WHERE run_id = ? AND task_id = ? ORDER BY attempt",
        (key, task_id),
    )
    if rows and rows[0][0] != step:
        actual = f"{flow_name}/{run_id}/{rows[0][0]}/{task_id}"
        return NotFoundError(
            f"No task '{pathspec}': task {task_id} of run {flow_name}/{run_id} belongs to "
            f"step '{rows[0][0]}' ('{actual}').",
            pathspec=pathspec,
        )
    if rows:
        attempts = ", ".join(str(row[1]) for row in rows)
        return NotFoundError(
            f"No attempt {attempt} of task '{pathspec}'. Attempts recorded: {attempts}.",
            pathspec=pathspec,
            attempt=attempt,
        )
    if q.one("SELECT 1 FROM tasks WHERE run_id = ? AND step_name = ? LIMIT 1", (key, step)) is None:
        return step_not_found(q, flow_name, run_id, key, step, pathspec)
    ids = [
        row[0]
        for row in q.all(
            "SELECT DISTINCT task_id FROM tasks WHERE run_id = ? AND step_name = ? LIMIT ?",
            (key, step, _MAX_CANDIDATES),
        )
    ]
    message = f"No task '{pathspec}'." + _did_you_mean(task_id, ids)
    message += _listing(f"Tasks of step {flow_name}/{run_id}/{step}", ids)
    return NotFoundError(message, pathspec=pathspec)
