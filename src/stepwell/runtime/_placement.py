"""Where one task of a run stands: its :class:`TaskSpec`, rebuilt from its input tasks' records.

The one-task command is told a step and its input tasks (or, for the start
step, nothing); everything else a task needs is in the metadata store: the
enclosing splits (from the inputs' foreach stacks and transitions), the
artifacts it inherits, the run's parameters. A task's id is derived from
what it is — its step, its inputs and its split index — so a retried task,
or the same task asked for twice, has the same id, and no orchestrator needs
to hand out ids.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from stepwell.exceptions import ConfigError, StepwellError
from stepwell.runtime._refs import refs_of
from stepwell.runtime._spec import Frame, FrameKind, TaskSpec


def derive_task_id(step: str, input_task_ids: Sequence[str], split_index: int | None) -> str:
    """``t`` + 12 hex digits of a hash of the step, its (sorted) inputs and its split index."""
    text = "\0".join([step, ",".join(sorted(input_task_ids)), str(split_index)])
    return "t" + hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def parse_input(text: str, flow: str, run_id: str) -> tuple[str, str]:
    """``STEP/TASK`` or ``Flow/RUN/STEP/TASK`` (of this run) -> (step, task id)."""
    parts = [p for p in text.strip().split("/") if p]
    if len(parts) == 4 and parts[0] == flow and parts[1] == run_id:
        parts = parts[2:]
    if len(parts) != 2:
        raise ConfigError(
            f"--input {text!r}: give an input task as STEP/TASK_ID, or as its pathspec "
            f"{flow}/{run_id}/STEP/TASK_ID (a task of this run)."
        )
    return parts[0], parts[1]


def parse_inputs_json(text: str | None) -> list[str]:
    """``["a/t1", ...]`` or ``[{"pathspec": "F/1/a/t1", ...}, ...]`` (aggregated outputs)."""
    if text is None:
        return []
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--inputs-json is not valid JSON ({exc.msg}): {text[:200]!r}") from None
    if not isinstance(items, list):
        items = [items]
    found = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("pathspec")
        if not isinstance(item, str) or not item:
            raise ConfigError(
                f"--inputs-json: each item must be a pathspec or an object with a 'pathspec', "
                f"got {item!r}."
            )
        found.append(item)
    return found


def place_task(
    metadata: Any,
    graph: Any,
    flow: str,
    run_id: str,
    step: str,
    inputs: Sequence[tuple[str, str]],
    split_index: int | None,
    parameter_names: Sequence[str],
) -> TaskSpec:
    """The task of ``step`` after ``inputs`` (and ``split_index`` of a foreach) in this run."""
    node = graph[step]
    parents = [_succeeded_input(metadata, flow, run_id, s, t, step) for s, t in inputs]
    if node.is_join:
        frames, parents = _join_frames(metadata, flow, run_id, step, parents)
        parent_refs: dict[str, Any] = {}
    else:
        if len(parents) != 1:
            raise ConfigError(
                f"Step '{step}' is not a join: it takes exactly one input task, got "
                f"{len(parents)} ({', '.join(p.pathspec for p in parents)})."
            )
        frames = _frames_after(metadata, parents[0], step, split_index)
        first = parents[0]
        parent_refs = refs_of(metadata.list_artifacts(flow, run_id, first.step_name, first.task_id))
    if node.is_join and split_index is not None:
        raise ConfigError(f"Step '{step}' is a join: it takes no --split-index.")
    input_ids = tuple(p.task_id for p in parents)
    return TaskSpec(
        flow_name=flow,
        run_id=run_id,
        step_name=step,
        task_id=derive_task_id(step, input_ids, split_index),
        input_task_ids=input_ids,
        input_steps=tuple(p.step_name for p in parents),
        frames=tuple(frames),
        parent_refs=parent_refs,
        param_refs=_param_refs(metadata, graph.start, flow, run_id, parameter_names),
    )


def inputs_closing(
    metadata: Any, graph: Any, flow: str, run_id: str, step: str, splitter: tuple[str, str]
) -> list[tuple[str, str]]:
    """The input tasks of join ``step`` that close the split made by task ``splitter``.

    Found in the run (one listing per step leading into the join), so an
    orchestrator names a foreach join's inputs with one pathspec, however wide.
    """
    node = graph[step]
    if not node.is_join:
        raise ConfigError(f"Step '{step}' is not a join: it takes no --inputs-of-split.")
    split_task = splitter[1]
    found = []
    for before in node.in_steps:
        for task in metadata.list_tasks(flow, run_id, before):
            stack = json.loads(task.foreach_stack)
            if stack and str(stack[-1][0]) == split_task:
                found.append((task.step_name, task.task_id))
    if not found:
        raise ConfigError(
            f"No task of run {flow}/{run_id} leading into join '{step}' closes the split made "
            f"by {splitter[0]}/{split_task}."
        )
    return found


def _succeeded_input(
    metadata: Any, flow: str, run_id: str, step: str, task_id: str, to: str
) -> Any:
    from stepwell.exceptions import NotFoundError

    try:
        task = metadata.get_task(flow, run_id, step, task_id)
    except NotFoundError:
        raise ConfigError(
            f"Input task {flow}/{run_id}/{step}/{task_id} does not exist: run it first (the "
            "one-task command runs a flow's tasks in dependency order)."
        ) from None
    if task.status != "succeeded":
        raise StepwellError(
            f"Input task {task.pathspec} has not succeeded (status: {task.status}); "
            f"step '{to}' cannot run after it."
        )
    if to not in task.next_steps:
        following = ", ".join(task.next_steps) or "none"
        raise ConfigError(
            f"Input task {task.pathspec} does not lead to step '{to}' (it went to: {following})."
        )
    return task


def _frames_after(metadata: Any, parent: Any, step: str, split_index: int | None) -> list[Frame]:
    stack = json.loads(parent.foreach_stack)
    frames = _with_items(
        metadata, parent, [Frame(str(s), k, int(i), int(w)) for s, k, i, w in stack]
    )
    if parent.split_count is not None:  # a foreach (or @parallel) fans out here
        width = int(parent.split_count)
        if split_index is None or not 0 <= split_index < width:
            given = "" if split_index is None else f" (got {split_index})"
            raise ConfigError(
                f"Task {parent.pathspec} split into {width} tasks of step '{step}': give "
                f"--split-index 0..{width - 1}{given}."
            )
        transition = _transition(metadata, parent)
        kind: FrameKind = "parallel" if transition.get("num_parallel") else "foreach"
        frames.append(Frame(parent.task_id, kind, split_index, width, transition.get("items_key")))
        return frames
    if split_index is not None:
        raise ConfigError(
            f"Task {parent.pathspec} is not a foreach: step '{step}' takes no --split-index."
        )
    if len(parent.next_steps) > 1:  # a branch of a static split
        width = len(parent.next_steps)
        frames.append(Frame(parent.task_id, "split", parent.next_steps.index(step), width))
    return frames


def _with_items(metadata: Any, task: Any, frames: list[Frame]) -> list[Frame]:
    """``task``'s enclosing frames, each foreach one with the blob key of its items
    (``self.input`` and ``foreach_stack()`` read them): found walking up ``task``'s ancestors."""
    wanted = {f.split_task for f in frames if f.kind == "foreach"}
    items: dict[str, str | None] = {}
    while wanted - set(items):
        parents = metadata.parent_tasks(task.flow_name, task.run_id, task.step_name, task.task_id)
        if not parents:
            raise StepwellError(f"The foreach splits enclosing {task.pathspec} are not recorded.")
        task = parents[0]
        if task.task_id in wanted:
            items[task.task_id] = _transition(metadata, task).get("items_key")
    return [Frame(f.split_task, f.kind, f.index, f.width, items.get(f.split_task)) for f in frames]


def _transition(metadata: Any, task: Any) -> dict[str, Any]:
    found = metadata.get_task_metadata(task.flow_name, task.run_id, task.step_name, task.task_id)
    return dict(json.loads(found.get("transition", "{}")))


def _join_frames(
    metadata: Any, flow: str, run_id: str, step: str, parents: list[Any]
) -> tuple[list[Frame], list[Any]]:
    """A join's enclosing frames and its inputs in the order of the split they close."""
    stacks = [json.loads(p.foreach_stack) for p in parents]
    if not parents or not all(stacks):
        raise ConfigError(f"Join step '{step}' needs the input tasks of the split it closes.")
    closing = {(s[-1][0], int(s[-1][3])) for s in stacks}
    if len(closing) != 1:
        raise ConfigError(f"The inputs of join step '{step}' come from different splits.")
    ((_, width),) = closing
    indexes = sorted(int(s[-1][2]) for s in stacks)
    if indexes != list(range(width)):
        raise ConfigError(
            f"Join step '{step}' closes a split of {width} task(s) and needs all of them as "
            f"inputs; got {len(parents)} (split indexes {indexes})."
        )
    ordered = sorted(parents, key=lambda p: int(json.loads(p.foreach_stack)[-1][2]))
    outer = json.loads(ordered[0].foreach_stack)[:-1]
    frames = [Frame(str(s), k, int(i), int(w)) for s, k, i, w in outer]
    return _with_items(metadata, ordered[0], frames), ordered


def _param_refs(
    metadata: Any, start: str, flow: str, run_id: str, names: Sequence[str]
) -> dict[str, Any]:
    """The run's parameters, as its start task stored them."""
    starts = [t for t in metadata.list_tasks(flow, run_id, start) if t.status == "succeeded"]
    if not starts:
        raise StepwellError(
            f"Run {flow}/{run_id} has no successful '{start}' task to take its parameters from."
        )
    records = metadata.list_artifacts(flow, run_id, starts[0].step_name, starts[0].task_id)
    return refs_of({n: records[n] for n in names if n in records})
