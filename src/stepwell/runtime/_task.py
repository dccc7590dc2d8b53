"""Run one task attempt inside a worker process and report a :class:`TaskResult`.

The step runs inside an error boundary: whatever it raises becomes a failed
result carrying the user's traceback with stepwell's own frames trimmed.
Artifacts are durable in the store before the result is returned, so the
scheduler never records a task whose blobs could be missing.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from stepwell._crashpoints import crash_point
from stepwell.exceptions import ForeachError, StepwellError, TransitionError
from stepwell.flow import CurrentInfo, FlowSpec, ForeachFrame, Transition, use_current
from stepwell.runtime._context import WorkerContext
from stepwell.runtime._foreach import encode_items, is_one_shot, materialize
from stepwell.runtime._hooks import (
    default_transition,
    enter_extensions,
    run_fallback,
    run_step_body,
    step_hooks,
)
from stepwell.runtime._refs import refs_of
from stepwell.runtime._secrets import mask
from stepwell.runtime._spec import TaskResult, TaskSpec
from stepwell.runtime._state import StepState

_STEPWELL_DIR = str(Path(__file__).resolve().parents[1]) + os.sep
#: stepwell's own folder, as resolved and as imported (a step environment imports it
#: through a linked folder), whose frames a user's traceback leaves out.
_STEPWELL_DIRS = tuple({_STEPWELL_DIR, str(Path(__file__).parents[1]) + os.sep})


def run_task(spec: TaskSpec, ctx: WorkerContext) -> TaskResult:
    """Run ``spec`` in this process; never raises for an error of the user's step."""
    started = time.time()
    node = ctx.graph[spec.step_name]
    store = ctx.store
    state = StepState(
        spec,
        is_join=node.is_join,
        load=lambda ref, context: _load_artifact(store, ref, context),
        # Each branch reads one item of a blob shared by the whole foreach: hashing all
        # of it in every branch would cost O(width) per branch, so it is not verified.
        load_blob=lambda key: store.load_blob(key, verify=False),
        input_refs=_InputRefs(ctx, spec.input_task_ids, spec.extras.get("input_refs")),
    )
    flow = ctx.flow_cls(use_cli=False)
    flow.__dict__["_sw_state"] = state
    # Set before the step runs, so merge_artifacts() in a join never compares them.
    flow.__dict__.update(implicit_artifacts(spec))
    secret_values: list[str] = []
    sinks: list[Any] = []
    try:
        with ExitStack() as stack:
            info = _current_info(spec, ctx)
            if spec.caught is None:
                for attribute, sink in enter_extensions(stack, node, flow, spec, ctx, started):
                    sinks.append(sink)
                    info = info.with_extras(**{attribute: sink.collector})
            stack.enter_context(use_current(info))
            if spec.caught is not None:  # @catch: the step failed for good; go on without it
                state.transition = run_fallback(node, flow, spec.caught)
            else:
                inputs = state.inputs() if node.is_join else None
                stood_in = failed = False
                with step_hooks(node, flow, inputs, secret_values) as plan:
                    try:
                        stood_in = run_step_body(node, flow, inputs, plan)
                    except BaseException:
                        failed = True  # reaching the end of the block: a decorator swallowed it
                        raise
                next_args = flow.__dict__.pop("_sw_next_args", None)
                if state.transition is None and (stood_in or failed or next_args is not None):
                    default_transition(node, flow, next_args or {})
        try:
            _check_transition(node, state.transition, spec)
        except TransitionError as exc:
            exc.location = f"{node.file}:{node.next_line or node.line}"
            raise
        result = _success(spec, ctx, flow, state, started)
    except BaseException as exc:  # the error boundary: anything the step does
        # KeyboardInterrupt too: a task has its own process group, so the terminal's
        # Ctrl-C never reaches it (the scheduler stops it); one raised here is the step's.
        result = _failure(spec, exc, started)
        if secret_values:  # a secret in an exception message is not shown or stored either
            result.exception = mask(result.exception, secret_values)
            result.traceback = mask(result.traceback, secret_values)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    for sink in sinks:  # e.g. the cards rendered, on success or failure alike
        result.metadata.update(sink.records)
    return result


def implicit_artifacts(spec: TaskSpec) -> dict[str, Any]:
    """What Metaflow keeps on every successful task: ``_task_ok``, ``_success``, ``_foreach_stack``.

    Small values: they travel inline in the task's metadata record, no blob written.
    A failed attempt stores no artifacts, so these are True wherever they exist.
    """
    stack = [ForeachFrame(f.index, f.width) for f in spec.frames if f.kind != "split"]
    return {"_task_ok": True, "_success": True, "_foreach_stack": stack}


def _success(
    spec: TaskSpec, ctx: WorkerContext, flow: FlowSpec, state: StepState, started: float
) -> TaskResult:
    from stepwell.store import save_artifacts

    transition = state.transition
    num_splits = items_key = None
    node = ctx.graph[spec.step_name]
    where = f"{node.file}:{node.next_line}"
    try:
        if transition is not None and transition.foreach is not None:
            items_key, num_splits = _materialize_foreach(spec, ctx, flow, transition.foreach)
        elif transition is not None and transition.num_parallel is not None:
            num_splits = _check_parallel(spec, transition.num_parallel)
    except ForeachError as exc:
        exc.location = exc.location or where
        raise
    artifacts = dict(state.inherited)
    crash_point("task.before-blobs", spec.step_name)
    artifacts.update(save_artifacts(ctx.store, state.changed_artifacts(flow)))
    crash_point("task.after-blobs", spec.step_name)
    return TaskResult(
        task_id=spec.task_id,
        attempt=spec.attempt,
        ok=True,
        artifacts=artifacts,
        next_steps=transition.steps if transition else (),
        reads=tuple(sorted(state.reads)),
        foreach=transition.foreach if transition else None,
        condition=transition.condition if transition else None,
        num_parallel=transition.num_parallel if transition else None,
        num_splits=num_splits,
        items_key=items_key,
        started_at=started,
        finished_at=time.time(),
    )


def _materialize_foreach(
    spec: TaskSpec, ctx: WorkerContext, flow: FlowSpec, var: str
) -> tuple[str, int]:
    try:
        values = getattr(flow, var)
    except AttributeError:
        raise ForeachError(
            f"Step '{spec.step_name}' does a foreach over self.{var}, which is not set."
        ) from None
    try:
        items = materialize(values)
    except TypeError as exc:
        raise ForeachError(
            f"Step '{spec.step_name}' does a foreach over self.{var} "
            f"({type(values).__name__}), which cannot be iterated: {exc}."
        ) from None
    if is_one_shot(values):  # a generator or dict view is kept as the list it gave
        flow.__dict__[var] = items
    blob, count = encode_items(items)
    if count == 0:
        raise ForeachError(
            f"Step '{spec.step_name}' does a foreach over self.{var}, which is empty; "
            "a foreach needs at least one item."
        )
    limit = ctx.info.max_num_splits
    if count > limit:
        raise ForeachError(
            f"Step '{spec.step_name}' does a foreach over {count} items of self.{var}, "
            f"more than --max-num-splits {limit}. Raise it with --max-num-splits {count}."
        )
    (ref,) = ctx.store.save_blobs([blob])
    return ref.key, count


def _check_parallel(spec: TaskSpec, num_parallel: Any) -> int:
    if not isinstance(num_parallel, int) or isinstance(num_parallel, bool) or num_parallel < 1:
        raise ForeachError(
            f"Step '{spec.step_name}': num_parallel must be a positive int, got {num_parallel!r}."
        )
    return num_parallel


def _failure(spec: TaskSpec, exc: BaseException, started: float) -> TaskResult:
    return TaskResult(
        task_id=spec.task_id,
        attempt=spec.attempt,
        ok=False,
        exception_type=type(exc).__name__,
        exception=str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
        traceback=format_user_traceback(exc),
        started_at=started,
        finished_at=time.time(),
    )


def format_user_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` and the exceptions chained to it, without stepwell's frames.

    A stepwell error raised outside the user's code (e.g. an empty foreach) has
    no frames left: then only its message is shown, which names the location.
    """
    chain: list[tuple[BaseException, str]] = []
    current: BaseException | None = exc
    link = ""
    while current is not None and all(current is not seen for seen, _ in chain):
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, _CONTEXT
        else:
            current = None
    parts: list[str] = []
    for error, link in reversed(chain):
        parts.append(_format_one(error))
        if link:
            parts.append(link)
    return "".join(parts)


_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def _format_one(exc: BaseException) -> str:
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if not frame.filename.startswith(_STEPWELL_DIRS)
    ]
    lines = (
        ["Traceback (most recent call last):\n", *traceback.format_list(frames)] if frames else []
    )
    if isinstance(exc, StepwellError):
        lines.append(f"{type(exc).__name__}: {exc}\n")
    else:
        lines.extend(traceback.format_exception_only(type(exc), exc))
    return "".join(lines)


def _check_transition(node: Any, transition: Transition | None, spec: TaskSpec) -> None:
    """The step's run-time self.next() must be the one the static graph has."""
    step = spec.step_name
    if node.is_end:
        if transition is not None:
            raise TransitionError(f"The end step '{step}' called self.next{transition.steps}.")
        return
    if transition is None:
        raise TransitionError(
            f"Step '{step}' finished without calling self.next(); the graph expects "
            f"self.next() to {', '.join(node.out_steps)}."
        )
    expected = tuple(node.out_steps)
    if node.switch_cases:
        ok = len(transition.steps) == 1 and transition.steps[0] in node.switch_cases.values()
    else:
        ok = transition.steps == expected and transition.foreach == node.foreach_var
    if not ok:
        raise TransitionError(
            f"Step '{step}' called self.next() to {', '.join(transition.steps)}"
            f"{f' (foreach={transition.foreach!r})' if transition.foreach else ''}, but the "
            f"flow's graph says {', '.join(expected)}"
            f"{f' (foreach={node.foreach_var!r})' if node.foreach_var else ''}."
        )


def _load_artifact(store: Any, ref: Any, context: str) -> Any:
    from stepwell.store import load_artifact

    return load_artifact(store, ref, context=context)


class _InputRefs:
    """Artifact refs of a join's inputs, fetched from metadata a chunk of inputs at a time.

    Reading one input costs one query; iterating over all of them costs one
    query per ``CHUNK`` inputs, not one per input.
    """

    CHUNK = 500

    def __init__(
        self,
        ctx: WorkerContext,
        task_ids: tuple[str, ...],
        given: dict[str, dict[str, Any]] | None = None,  # sent with the task (remote workers)
    ) -> None:
        self._ctx = ctx
        self._task_ids = task_ids
        self._position = {task_id: i for i, task_id in enumerate(task_ids)}
        self._refs: dict[str, dict[str, Any]] = dict(given or {})

    def __call__(self, step: str, task_id: str) -> dict[str, Any]:
        if task_id not in self._refs:
            first = self._position[task_id] // self.CHUNK * self.CHUNK
            self._fetch(self._task_ids[first : first + self.CHUNK])
        return self._refs[task_id]

    def _fetch(self, task_ids: tuple[str, ...]) -> None:
        info = self._ctx.info
        found = self._ctx.metadata.artifacts_of_tasks(info.flow_name, info.run_id, task_ids)
        for task_id, records in found.items():
            self._refs[task_id] = refs_of(records)


def _current_info(spec: TaskSpec, ctx: WorkerContext) -> CurrentInfo:
    info = ctx.info
    current = CurrentInfo(
        flow_name=spec.flow_name,
        run_id=spec.run_id,
        step_name=spec.step_name,
        task_id=spec.task_id,
        retry_count=spec.attempt,
        origin_run_id=info.origin_run_id,
        namespace=info.namespace,
        username=info.username,
        tags=info.tags,
        parameter_names=info.parameter_names,
        datastore_root=info.datastore_url,
    )
    if info.project:
        current = current.with_extras(**info.project)
    if info.trigger:
        from stepwell.runtime._fired import Trigger

        current = current.with_extras(trigger=Trigger(info.trigger))
    parallel = [f for f in spec.frames if f.kind == "parallel"]
    if parallel:
        frame = parallel[-1]
        main_ip = spec.extras.get("main_ip", "127.0.0.1")
        current = current.with_extras(parallel=_ParallelInfo(frame.width, frame.index, main_ip))
    return current


class _ParallelInfo:
    """``current.parallel`` inside a @parallel step."""

    def __init__(self, num_nodes: int, node_index: int, main_ip: str) -> None:
        self.num_nodes = num_nodes
        self.node_index = node_index
        self.main_ip = main_ip

    def __repr__(self) -> str:
        return f"<parallel node {self.node_index} of {self.num_nodes}>"
