"""Resume: reuse every task of an earlier run that succeeded, run the rest again.

A task of the new run is matched to the origin run's task at the same place
in the flow: same step, same foreach/branch indexes, and the same visit of
that step there (a step that loops back through a switch is visited again).
A successful match is cloned — its artifacts are referenced, not copied, and
its transition replayed — and no process runs for it. Steps named for a
re-run (``resume STEP`` and everything after it), failed tasks and tasks that
never finished (a killed scheduler leaves them "running") run again.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from stepwell.exceptions import NotFoundError, StepwellError
from stepwell.runtime._refs import refs_of
from stepwell.runtime._spec import TaskResult, TaskSpec

Place = tuple[str, tuple[tuple[str, int, int], ...]]  # step, ((kind, index, width), ...)


def launch_order(task: Any) -> tuple[float, int, str]:
    """Sort key of a run's tasks in the order they started: a local run's ids are counters;
    a run made by the one-task command (derived ids, ``t...``) goes by start time."""
    if task.task_id.isdigit():
        return (0.0, int(task.task_id), "")
    return (task.started_at, 0, task.task_id)


def _place(step: str, frames: Iterable[Any]) -> Place:
    return step, tuple((kind, int(index), int(width)) for _split, kind, index, width in frames)


class Resume:
    """The origin run's tasks by place, and what the new run may clone from them."""

    def __init__(self, metadata: Any, flow: str, origin_run_id: str, rerun: set[str]) -> None:
        self.metadata = metadata
        self.flow = flow
        self.origin_run_id = origin_run_id
        self.rerun = rerun
        self._tasks: dict[Place, list[Any]] = defaultdict(list)
        for task in sorted(metadata.list_tasks(flow, origin_run_id), key=launch_order):
            self._tasks[_place(task.step_name, json.loads(task.foreach_stack))].append(task)
        self._visits: dict[Place, int] = defaultdict(int)
        self.cloned = 0

    def clone(self, spec: TaskSpec) -> TaskResult | None:
        """The replayed result of the origin task at ``spec``'s place, or None to run it."""
        frames = [(f.split_task, f.kind, f.index, f.width) for f in spec.frames]
        place = _place(spec.step_name, frames)
        if spec.attempt or spec.caught is not None:
            return None  # a retry of a task that already ran again here
        visit = self._visits[place]
        self._visits[place] = visit + 1
        candidates = self._tasks.get(place, [])
        if spec.step_name in self.rerun or visit >= len(candidates):
            return None
        origin = candidates[visit]
        if origin.status != "succeeded":
            return None
        transition = json.loads(
            self.metadata.get_task_metadata(
                self.flow, self.origin_run_id, origin.step_name, origin.task_id
            ).get("transition", "{}")
        )
        if (
            origin.split_count is not None
            and "num_parallel" not in transition
            and ("items_key" not in transition)
        ):
            return None  # recorded before resume kept foreach items: run it again
        artifacts = self.metadata.list_artifacts(
            self.flow, self.origin_run_id, origin.step_name, origin.task_id
        )
        self.cloned += 1
        return replayed(spec, origin, artifacts, transition, at=time.time())


def replayed(
    spec: TaskSpec,
    origin: Any,
    artifacts: Any,
    transition: dict[str, Any],
    *,
    at: float,
    metadata: dict[str, str] | None = None,
) -> TaskResult:
    """The result of ``spec`` as a replay of task ``origin`` (resume, @cache): no process ran.

    Its artifacts are ``origin``'s (referenced, not copied), its transition the
    recorded one (``transition``: the origin's task metadata of that name).
    """
    return TaskResult(
        task_id=spec.task_id,
        attempt=0,
        ok=True,
        artifacts=refs_of(artifacts),
        next_steps=tuple(origin.next_steps),
        foreach=transition.get("foreach"),
        condition=transition.get("condition"),
        num_parallel=transition.get("num_parallel"),
        num_splits=origin.split_count,
        items_key=transition.get("items_key"),
        started_at=at,
        finished_at=at,
        origin_pathspec=origin.pathspec,
        metadata=dict(metadata or {}),
    )


def steps_from(graph: Any, step: str) -> set[str]:
    """``step`` and every step reachable from it: what ``resume STEP`` runs again."""
    if step not in graph:
        names = ", ".join(node.name for node in graph)
        raise StepwellError(f"resume {step}: the flow has no step '{step}'. Steps: {names}.")
    seen, todo = set(), [step]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(graph[name].out_steps)
    return seen


def find_origin(metadata: Any, flow: str, origin_run_id: str | None, user: str) -> Any:
    """The run to resume: the one named, else this user's latest run of the flow."""
    if origin_run_id is not None:
        return metadata.get_run(flow, origin_run_id)
    try:
        latest = metadata.latest_run(flow, user=user)
    except NotFoundError:
        latest = None
    if latest is None:
        raise StepwellError(
            f"There is no run of {flow} by {user} to resume. Run it first, or name one with "
            "--origin-run-id."
        )
    return latest
