"""A run's DAG, step summaries and timeline, derived from its task records in one pass.

The flow class is not available to the UI, so the graph comes from what ran:
each task records the steps it transitioned to (``next_steps``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

#: Above this many tasks the timeline is an even sample of them (flagged ``sampled``).
TIMELINE_MAX = 1500
#: Tasks listed per step on the run page (failed and running ones always come first).
TASKS_PER_STEP = 50


def summarize_tasks(tasks: Sequence[Any], now: float) -> dict[str, Any]:
    """``steps``, ``edges``, ``timeline`` and per-step task lists of a run's task records."""
    steps: dict[str, dict[str, Any]] = {}
    edges: dict[tuple[str, str], None] = {}
    for task in tasks:
        step = steps.get(task.step_name)
        if step is None:
            step = steps[task.step_name] = _new_step(task.step_name)
        _count(step, task, now)
        for succ in task.next_steps:
            edges[(task.step_name, succ)] = None
    for src, dst in edges:
        width = steps[src]["split_width"]
        if width is not None and dst in steps:
            steps[dst]["foreach_width"] = width
    listed = {name: _listed(step.pop("_tasks")) for name, step in steps.items()}
    return {
        "steps": list(steps.values()),
        "edges": [list(edge) for edge in edges],
        "timeline": _timeline(tasks, now),
        "tasks": listed,
    }


def _new_step(name: str) -> dict[str, Any]:
    return {
        "name": name, "tasks": 0, "running": 0, "succeeded": 0, "failed": 0, "retried": 0,
        "started_at": None, "finished_at": None, "split_width": None, "foreach_width": None,
        "status": "succeeded", "_tasks": [],
    }  # fmt: skip


def _count(step: dict[str, Any], task: Any, now: float) -> None:
    step["tasks"] += 1
    step[task.status] += 1
    if task.attempt > 0:
        step["retried"] += 1
    if task.split_count is not None:
        step["split_width"] = max(step["split_width"] or 0, task.split_count)
    if step["started_at"] is None or task.started_at < step["started_at"]:
        step["started_at"] = task.started_at
    end = task.finished_at if task.finished_at is not None else now
    if step["finished_at"] is None or end > step["finished_at"]:
        step["finished_at"] = end
    step["status"] = "failed" if step["failed"] else "running" if step["running"] else "succeeded"
    if len(step["_tasks"]) < TASKS_PER_STEP or task.status != "succeeded":
        step["_tasks"].append(task)


def _listed(tasks: list[Any]) -> list[dict[str, Any]]:
    order = {"failed": 0, "running": 1, "succeeded": 2}
    tasks = sorted(tasks, key=lambda t: order.get(t.status, 3))[: TASKS_PER_STEP * 2]
    return [task_brief(t) for t in tasks]


def task_brief(task: Any) -> dict[str, Any]:
    """The fields of a task record shown in lists."""
    return {
        "id": task.task_id, "step": task.step_name, "pathspec": task.pathspec,
        "status": task.status, "attempt": task.attempt, "index": task.index,
        "started_at": task.started_at, "finished_at": task.finished_at,
        "foreach_stack": _stack(task.foreach_stack),
    }  # fmt: skip


def _stack(text: str) -> list[Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def _timeline(tasks: Sequence[Any], now: float) -> dict[str, Any]:
    total = len(tasks)
    stride = max(1, -(-total // TIMELINE_MAX))
    chosen = tasks[::stride]
    bars = [
        [t.step_name, t.task_id, t.status, t.started_at,
         t.finished_at if t.finished_at is not None else now]
        for t in chosen
    ]  # fmt: skip
    fields = ["step", "id", "status", "start", "end"]
    return {"total": total, "sampled": stride > 1, "fields": fields, "bars": bars}
