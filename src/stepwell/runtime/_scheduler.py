"""The scheduler: a pure state machine over the flow's graph.

It is told which tasks finished or failed and answers which tasks may run
next. It starts no process, reads no clock of its own (one is injected, for
retry delays) and does O(1) work per finished task: a join is released by a
counter keyed on the split that opened it, never by rescanning siblings, and
a foreach fan-out is expanded lazily as workers free up.

Ready work is a deque: the successors of a finished task go to the front
(depth-first), so a wide foreach runs each branch to its end before opening
new ones and the queue stays as small as the number of workers.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from stepwell.runtime._spec import CaughtFailure, Frame, FrameKind, TaskResult, TaskSpec


@dataclass(frozen=True)
class RetryPolicy:
    """How a failed task of a step is retried (@retry) and whether its failure is caught."""

    times: int = 0
    delay_seconds: float = 0.0
    catch: bool = False  # after the last retry, a fallback attempt lets the run go on


@dataclass
class _Fanout:
    """Children of one split task, materialized one at a time."""

    parent: TaskSpec
    step_name: str
    kind: FrameKind
    width: int
    items_key: str | None
    parent_refs: dict[str, Any]
    next_index: int = 0


@dataclass
class _PendingJoin:
    inputs: list[str | None]
    steps: list[str | None]
    remaining: int


@dataclass
class _Counts:
    launched: int = 0
    succeeded: int = 0
    failed: int = 0
    per_step: dict[str, list[int]] = field(default_factory=dict)  # step -> [done, failed]


class Scheduler:
    """Decides what runs next. ``graph[step].is_join`` is all it needs of the graph."""

    def __init__(
        self,
        graph: Any,
        flow_name: str,
        run_id: str,
        *,
        start_step: str = "start",
        end_step: str = "end",
        retries: Mapping[str, RetryPolicy] | None = None,
        clock: Callable[[], float] = time.monotonic,
        first_task_id: int = 1,
    ) -> None:
        self._graph = graph
        self.flow_name = flow_name
        self.run_id = run_id
        self.start_step = start_step
        self.end_step = end_step
        self._retries = dict(retries or {})
        self._clock = clock
        self._ids = itertools.count(first_task_id)
        self._ready: deque[TaskSpec | _Fanout] = deque()
        self._delayed: list[tuple[float, int, TaskSpec]] = []  # heap of (due, seq, spec)
        self._seq = itertools.count()
        self._joins: dict[tuple[str, str], _PendingJoin] = {}
        self.counts = _Counts()
        self.failed_tasks: list[tuple[TaskSpec, TaskResult]] = []
        self.end_reached = False
        self._one_task = False

    # -- input ---------------------------------------------------------------------
    def start(self, param_refs: dict[str, Any]) -> TaskSpec:
        """Queue the start task; every task of the run inherits ``param_refs``."""
        self._param_refs = param_refs
        spec = self._new_spec(self.start_step, (), (), (), {})
        self._ready.append(spec)
        return spec

    def start_one(self, spec: TaskSpec) -> None:
        """Queue ``spec`` alone (the one-task command): it runs with its retries and
        @catch fallback, and nothing after it is released; ``end_reached`` once it succeeds."""
        self._param_refs = spec.param_refs
        self._one_task = True
        self._ready.append(spec)

    def task_succeeded(self, spec: TaskSpec, result: TaskResult) -> None:
        """Record a successful attempt and release what follows it."""
        self.counts.succeeded += 1
        self._step_count(spec.step_name)[0] += 1
        if spec.step_name == self.end_step or self._one_task:
            self.end_reached = True
            return
        steps = result.next_steps
        if result.num_splits is not None:
            kind: FrameKind = "parallel" if result.num_parallel is not None else "foreach"
            self._ready.appendleft(
                _Fanout(spec, steps[0], kind, result.num_splits, result.items_key, result.artifacts)
            )
        elif len(steps) > 1:
            width = len(steps)
            released = [
                self._release(
                    spec, name, (*spec.frames, Frame(spec.task_id, "split", i, width)),
                    result.artifacts, front=False,
                )
                for i, name in enumerate(steps)
            ]  # fmt: skip
            for ready in reversed([r for r in released if r is not None]):
                self._ready.appendleft(ready)
        else:
            self._release(spec, steps[0], spec.frames, result.artifacts)

    def task_failed(self, spec: TaskSpec, result: TaskResult) -> bool:
        """Record a failed attempt. True when it will be retried, False when the run fails."""
        policy = self._retries.get(spec.step_name)
        if policy is not None and spec.caught is None:
            if spec.attempt < policy.times:
                retry = dataclasses.replace(spec, attempt=spec.attempt + 1)
                due = self._clock() + policy.delay_seconds
                heapq.heappush(self._delayed, (due, next(self._seq), retry))
                return True
            if policy.catch:
                caught = CaughtFailure(
                    result.exception_type or "Exception",
                    result.exception or "",
                    result.traceback or "",
                    spec.attempt,
                )
                fallback = dataclasses.replace(spec, attempt=spec.attempt + 1, caught=caught)
                self._ready.appendleft(fallback)
                return True
        self.counts.failed += 1
        self._step_count(spec.step_name)[1] += 1
        self.failed_tasks.append((spec, result))
        return False

    # -- output --------------------------------------------------------------------
    def next_task(self) -> TaskSpec | None:
        """The next task to launch, or None if nothing is ready now."""
        now = self._clock()
        while self._delayed and self._delayed[0][0] <= now:
            self._ready.appendleft(heapq.heappop(self._delayed)[2])
        if not self._ready:
            return None
        head = self._ready[0]
        if isinstance(head, TaskSpec):
            self._ready.popleft()
            spec = head
        else:
            spec = self._expand(head)
        self.counts.launched += 1
        return spec

    def next_wakeup(self) -> float | None:
        """Clock time at which a delayed retry becomes ready (None if none waits)."""
        return self._delayed[0][0] if self._delayed else None

    def has_pending(self) -> bool:
        return bool(self._ready or self._delayed)

    def iter_ready(self) -> Iterator[TaskSpec]:
        while (spec := self.next_task()) is not None:
            yield spec

    @property
    def failed(self) -> bool:
        return bool(self.failed_tasks)

    # -- internals -----------------------------------------------------------------
    def _step_count(self, step: str) -> list[int]:
        return self.counts.per_step.setdefault(step, [0, 0])

    def _new_spec(
        self,
        step: str,
        inputs: tuple[str, ...],
        input_steps: tuple[str, ...],
        frames: tuple[Frame, ...],
        parent_refs: dict[str, Any],
    ) -> TaskSpec:
        return TaskSpec(
            flow_name=self.flow_name,
            run_id=self.run_id,
            step_name=step,
            task_id=str(next(self._ids)),
            input_task_ids=inputs,
            input_steps=input_steps,
            frames=frames,
            parent_refs=parent_refs,
            param_refs=self._param_refs,
        )

    def _expand(self, fan: _Fanout) -> TaskSpec:
        index = fan.next_index
        fan.next_index += 1
        if fan.next_index == fan.width:
            self._ready.popleft()
        frame = Frame(fan.parent.task_id, fan.kind, index, fan.width, fan.items_key)
        return self._new_spec(
            fan.step_name,
            (fan.parent.task_id,),
            (fan.parent.step_name,),
            (*fan.parent.frames, frame),
            fan.parent_refs,
        )

    def _release(
        self,
        parent: TaskSpec,
        step: str,
        frames: tuple[Frame, ...],
        refs: dict[str, Any],
        *,
        front: bool = True,
    ) -> TaskSpec | None:
        """Make the task of ``step`` that follows ``parent`` ready (or count it toward its join).

        With ``front`` the new task goes to the front of the queue; otherwise it
        is returned for the caller to place (a split keeps its branches in order).
        """
        spec: TaskSpec | None
        if not self._graph[step].is_join:
            spec = self._new_spec(step, (parent.task_id,), (parent.step_name,), frames, refs)
        else:
            spec = self._arrive_at_join(parent, step, frames)
        if spec is not None and front:
            self._ready.appendleft(spec)
        return spec

    def _arrive_at_join(
        self, parent: TaskSpec, step: str, frames: tuple[Frame, ...]
    ) -> TaskSpec | None:
        closing = frames[-1]
        key = (step, closing.split_task)
        pending = self._joins.get(key)
        if pending is None:
            pending = _PendingJoin([None] * closing.width, [None] * closing.width, closing.width)
            self._joins[key] = pending
        pending.inputs[closing.index] = parent.task_id
        pending.steps[closing.index] = parent.step_name
        pending.remaining -= 1
        if pending.remaining:
            return None
        del self._joins[key]
        inputs = tuple(i for i in pending.inputs if i is not None)
        steps = tuple(s for s in pending.steps if s is not None)
        return self._new_spec(step, inputs, steps, frames[:-1], {})
