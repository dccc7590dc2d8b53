"""The scheduler as a pure state machine: driven by hand, no process, an injected clock.

Each test builds the static graph of a small flow defined here (its steps never
run), tells the scheduler which tasks finished and checks what it hands out
next: order, frames, join inputs, retries.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable

import pytest

from stepwell import FlowSpec, parallel, step
from stepwell.graph import build_graph
from stepwell.runtime import Frame, RetryPolicy, Scheduler, TaskResult, TaskSpec

PARAMS = {"alpha": "ref-of-alpha"}


# -- flows (read for their graph only) --------------------------------------------------
class LinearFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.a)

    @step
    def a(self):
        self.next(self.b)

    @step
    def b(self):
        self.next(self.end)

    @step
    def end(self):
        pass


class BranchFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.left, self.right)

    @step
    def left(self):
        self.next(self.join)

    @step
    def right(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


class ForeachFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2, 3]
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.next(self.after)

    @step
    def after(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


class WideForeachFlow(FlowSpec):
    @step
    def start(self):
        self.items = list(range(10))
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


class NestedForeachFlow(FlowSpec):
    @step
    def start(self):
        self.outer_items = [1, 2]
        self.next(self.outer, foreach="outer_items")

    @step
    def outer(self):
        self.inner_items = [1, 2, 3]
        self.next(self.inner, foreach="inner_items")

    @step
    def inner(self):
        self.next(self.inner_join)

    @step
    def inner_join(self, inputs):
        self.next(self.outer_join)

    @step
    def outer_join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


class SwitchFlow(FlowSpec):
    @step
    def start(self):
        self.route = "fast"
        self.next({"fast": self.fast, "slow": self.slow}, condition="route")

    @step
    def fast(self):
        self.next(self.end)

    @step
    def slow(self):
        self.next(self.end)

    @step
    def end(self):
        pass


class RecursionFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.loop)

    @step
    def loop(self):
        self.status = "again"
        self.next({"again": self.loop, "done": self.end}, condition="status")

    @step
    def end(self):
        pass


class ParallelFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.train, num_parallel=3)

    @parallel
    @step
    def train(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


# -- helpers ----------------------------------------------------------------------------
class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_scheduler(flow_cls: type[FlowSpec], **kwargs: object) -> Scheduler:
    scheduler = Scheduler(build_graph(flow_cls), flow_cls.__name__, "42", **kwargs)  # type: ignore[arg-type]
    scheduler.start(dict(PARAMS))
    return scheduler


def result(spec: TaskSpec, *next_steps: str, ok: bool = True, **extra: object) -> TaskResult:
    return TaskResult(
        task_id=spec.task_id,
        attempt=spec.attempt,
        ok=ok,
        artifacts={"x": f"ref-from-{spec.task_id}"},
        next_steps=next_steps,
        **extra,  # type: ignore[arg-type]
    )


def succeed(scheduler: Scheduler, spec: TaskSpec, *next_steps: str, **extra: object) -> None:
    scheduler.task_succeeded(spec, result(spec, *next_steps, **extra))


def take(scheduler: Scheduler) -> TaskSpec:
    spec = scheduler.next_task()
    assert spec is not None, "expected a ready task"
    return spec


def take_all(scheduler: Scheduler) -> list[TaskSpec]:
    return list(scheduler.iter_ready())


def foreach(width: int, step_name: str) -> dict[str, object]:
    """The extra fields of a result whose step did a foreach of ``width`` items."""
    return {"foreach": "items", "num_splits": width, "items_key": f"blob-{step_name}"}


def ids(specs: Iterable[TaskSpec]) -> list[str]:
    return [spec.task_id for spec in specs]


# -- linear -----------------------------------------------------------------------------
def test_linear_chain_runs_each_step_once_in_order() -> None:
    scheduler = make_scheduler(LinearFlow)
    seen = []
    for next_step in ("a", "b", "end", None):
        spec = take(scheduler)
        assert scheduler.next_task() is None, "only one task of a chain is ready at a time"
        seen.append(spec)
        succeed(scheduler, spec, *([next_step] if next_step else []))
    assert [s.step_name for s in seen] == ["start", "a", "b", "end"]
    assert scheduler.end_reached and not scheduler.failed
    assert not scheduler.has_pending()
    # each task's single input is the previous task, and it inherits that task's refs
    for parent, child in itertools.pairwise(seen):
        assert child.input_task_ids == (parent.task_id,)
        assert child.input_steps == (parent.step_name,)
        assert child.parent_refs == {"x": f"ref-from-{parent.task_id}"}
        assert child.frames == ()
    assert all(s.param_refs == PARAMS for s in seen)
    assert all(s.pathspec == f"LinearFlow/42/{s.step_name}/{s.task_id}" for s in seen)
    assert scheduler.counts.launched == 4 and scheduler.counts.succeeded == 4


def test_end_reached_only_after_the_end_step() -> None:
    scheduler = make_scheduler(LinearFlow)
    for next_step in ("a", "b", "end"):
        succeed(scheduler, take(scheduler), next_step)
        assert not scheduler.end_reached
    succeed(scheduler, take(scheduler))
    assert scheduler.end_reached


# -- static branch ------------------------------------------------------------------------
def test_branch_makes_one_task_per_branch_and_releases_the_join_after_both() -> None:
    scheduler = make_scheduler(BranchFlow)
    start = take(scheduler)
    succeed(scheduler, start, "left", "right")
    left, right = take(scheduler), take(scheduler)
    assert scheduler.next_task() is None
    assert (left.step_name, right.step_name) == ("left", "right")
    assert left.frames == (Frame(start.task_id, "split", 0, 2),)
    assert right.frames == (Frame(start.task_id, "split", 1, 2),)

    succeed(scheduler, right, "join")  # the second branch finishes first
    assert scheduler.next_task() is None, "the join waits for every branch"
    assert not scheduler.has_pending()
    succeed(scheduler, left, "join")
    join = take(scheduler)
    assert join.step_name == "join"
    assert join.input_task_ids == (left.task_id, right.task_id)  # branch order, not finish order
    assert join.input_steps == ("left", "right")
    assert join.frames == ()
    assert join.parent_refs == {}  # a join reads its inputs, it inherits nothing directly
    assert scheduler.next_task() is None


# -- foreach ------------------------------------------------------------------------------
def test_foreach_children_carry_index_width_and_items_key() -> None:
    scheduler = make_scheduler(ForeachFlow)
    start = take(scheduler)
    succeed(scheduler, start, "body", **foreach(3, "start"))
    children = take_all(scheduler)
    assert [c.step_name for c in children] == ["body"] * 3
    assert [c.frames for c in children] == [
        (Frame(start.task_id, "foreach", i, 3, "blob-start"),) for i in range(3)
    ]
    assert all(c.input_task_ids == (start.task_id,) for c in children)
    assert all(c.input_steps == ("start",) for c in children)
    assert all(c.parent_refs == {"x": f"ref-from-{start.task_id}"} for c in children)


def test_foreach_fanout_is_materialized_lazily() -> None:
    scheduler = make_scheduler(WideForeachFlow)
    start = take(scheduler)
    succeed(scheduler, start, "body", **foreach(1000, "start"))
    first, second = take(scheduler), take(scheduler)
    assert scheduler.counts.launched == 3
    assert (first.frames[-1].index, second.frames[-1].index) == (0, 1)
    # task ids are drawn when a spec is made: had all 1000 children been made up
    # front, the next new task would not get the very next id
    assert int(second.task_id) == int(first.task_id) + 1
    succeed(scheduler, first, "join")
    third = take(scheduler)
    assert third.step_name == "body" and third.frames[-1].index == 2
    assert int(third.task_id) == int(second.task_id) + 1
    assert scheduler.has_pending()


def test_depth_first_a_foreach_childs_successor_comes_before_the_next_sibling() -> None:
    scheduler = make_scheduler(ForeachFlow)
    succeed(scheduler, take(scheduler), "body", **foreach(3, "start"))
    body0 = take(scheduler)
    succeed(scheduler, body0, "after")
    after0 = take(scheduler)
    assert after0.step_name == "after"
    assert after0.input_task_ids == (body0.task_id,)
    assert after0.frames == body0.frames  # a linear step stays inside the same foreach frame
    body1 = take(scheduler)
    assert body1.step_name == "body" and body1.frames[-1].index == 1


def test_foreach_join_gets_every_child_in_index_order() -> None:
    scheduler = make_scheduler(ForeachFlow)
    start = take(scheduler)
    succeed(scheduler, start, "body", **foreach(3, "start"))
    bodies = take_all(scheduler)
    for body in reversed(bodies):
        succeed(scheduler, body, "after")
    afters = take_all(scheduler)
    assert sorted(a.frames[-1].index for a in afters) == [0, 1, 2]
    random.Random(7).shuffle(afters)
    for position, after in enumerate(afters):
        succeed(scheduler, after, "join")
        if position < len(afters) - 1:
            assert scheduler.next_task() is None
    join = take(scheduler)
    by_index = sorted(afters, key=lambda s: s.frames[-1].index)
    assert join.input_task_ids == tuple(ids(by_index))
    assert join.input_steps == ("after",) * 3
    assert join.frames == ()


def test_join_of_a_10000_wide_foreach_is_released_once_after_the_last_child() -> None:
    width = 10_000
    scheduler = make_scheduler(WideForeachFlow)
    start = take(scheduler)
    succeed(scheduler, start, "body", **foreach(width, "start"))
    children = take_all(scheduler)
    assert len(children) == width
    assert len(set(ids(children))) == width
    order = list(children)
    random.Random(3).shuffle(order)
    last = order.pop()
    for child in order:
        succeed(scheduler, child, "join")
    assert scheduler.next_task() is None, "the join was released before its last input"
    assert not scheduler.has_pending()
    succeed(scheduler, last, "join")
    joins = take_all(scheduler)
    assert len(joins) == 1
    (join,) = joins
    assert join.step_name == "join"
    assert join.input_task_ids == tuple(ids(children))  # children were made in index order
    assert [c.frames[-1].index for c in children] == list(range(width))
    assert join.input_steps == ("body",) * width
    assert join.frames == ()
    succeed(scheduler, join, "end")
    end = take(scheduler)
    succeed(scheduler, end)
    assert scheduler.end_reached
    assert scheduler.next_task() is None


def test_nested_foreach_joins_close_the_innermost_split() -> None:
    scheduler = make_scheduler(NestedForeachFlow)
    start = take(scheduler)
    succeed(scheduler, start, "outer", **foreach(2, "start"))
    outers = take_all(scheduler)
    assert len(outers) == 2
    for outer in outers:
        succeed(scheduler, outer, "inner", **foreach(3, f"outer{outer.task_id}"))
    inners = take_all(scheduler)
    assert len(inners) == 6
    for inner in inners:
        outer_frame, inner_frame = inner.frames
        assert outer_frame.split_task == start.task_id and outer_frame.width == 2
        assert inner_frame.kind == "foreach" and inner_frame.width == 3
        succeed(scheduler, inner, "inner_join")
    inner_joins = take_all(scheduler)
    assert len(inner_joins) == 2
    for inner_join in inner_joins:
        (outer_frame,) = inner_join.frames
        parent = outers[outer_frame.index]
        assert inner_join.frames == parent.frames
        mine = [i for i in inners if i.frames[-1].split_task == parent.task_id]
        assert inner_join.input_task_ids == tuple(ids(mine))
        assert [i.frames[-1].index for i in mine] == [0, 1, 2]
    # finish the inner joins in reverse: the outer join still lists them by outer index
    for inner_join in reversed(inner_joins):
        succeed(scheduler, inner_join, "outer_join")
    (outer_join,) = take_all(scheduler)
    by_index = sorted(inner_joins, key=lambda s: s.frames[-1].index)
    assert outer_join.input_task_ids == tuple(ids(by_index))
    assert outer_join.input_steps == ("inner_join", "inner_join")
    assert outer_join.frames == ()


# -- switch, recursion, parallel ----------------------------------------------------------
def test_switch_releases_only_the_chosen_step() -> None:
    scheduler = make_scheduler(SwitchFlow)
    start = take(scheduler)
    succeed(scheduler, start, "slow", condition="route")
    (chosen,) = take_all(scheduler)
    assert chosen.step_name == "slow"
    assert chosen.frames == ()
    succeed(scheduler, chosen, "end")
    (end,) = take_all(scheduler)
    succeed(scheduler, end)
    assert scheduler.end_reached
    assert "fast" not in scheduler.counts.per_step


def test_recursion_makes_a_new_task_each_time_round() -> None:
    scheduler = make_scheduler(RecursionFlow)
    previous = take(scheduler)
    succeed(scheduler, previous, "loop")
    loops = []
    for _ in range(5):
        loop = take(scheduler)
        assert loop.step_name == "loop"
        assert loop.input_task_ids == (previous.task_id,)
        loops.append(loop)
        succeed(scheduler, loop, "loop", condition="status")
        previous = loop
    assert len(set(ids(loops))) == 5
    succeed(scheduler, take(scheduler), "end", condition="status")
    end = take(scheduler)
    assert end.step_name == "end"
    succeed(scheduler, end)
    assert scheduler.end_reached
    assert scheduler.counts.per_step["loop"] == [6, 0]


def test_num_parallel_makes_a_gang_with_parallel_frames() -> None:
    scheduler = make_scheduler(ParallelFlow)
    start = take(scheduler)
    succeed(scheduler, start, "train", num_parallel=3, num_splits=3)
    gang = take_all(scheduler)
    assert [g.step_name for g in gang] == ["train"] * 3
    assert [g.frames for g in gang] == [
        (Frame(start.task_id, "parallel", i, 3, None),) for i in range(3)
    ]
    for member in gang:
        succeed(scheduler, member, "join")
    (join,) = take_all(scheduler)
    assert join.input_task_ids == tuple(ids(gang))
    assert join.frames == ()


# -- failures and retries -----------------------------------------------------------------
def test_failure_without_retry_fails_the_run() -> None:
    scheduler = make_scheduler(LinearFlow)
    spec = take(scheduler)
    failure = result(spec, ok=False, exception_type="ValueError", exception="bad")
    assert scheduler.task_failed(spec, failure) is False
    assert scheduler.failed
    assert scheduler.failed_tasks == [(spec, failure)]
    assert scheduler.counts.failed == 1
    assert scheduler.counts.per_step["start"] == [0, 1]
    assert not scheduler.has_pending()
    assert not scheduler.end_reached


def test_retry_waits_for_its_delay_then_comes_back_with_the_next_attempt() -> None:
    clock = FakeClock()
    scheduler = make_scheduler(
        LinearFlow, retries={"a": RetryPolicy(times=2, delay_seconds=60)}, clock=clock
    )
    succeed(scheduler, take(scheduler), "a")
    spec = take(scheduler)
    assert spec.attempt == 0
    for attempt in (1, 2):
        failed = result(spec, ok=False, exception_type="ValueError", exception="bad")
        assert scheduler.task_failed(spec, failed) is True
        assert not scheduler.failed
        assert scheduler.has_pending()
        assert scheduler.next_task() is None
        assert scheduler.next_wakeup() == pytest.approx(clock.now + 60)
        clock.now += 59.9
        assert scheduler.next_task() is None, "a retry must not run before its delay"
        clock.now += 0.1
        retry = take(scheduler)
        assert retry.attempt == attempt
        assert retry.task_id == spec.task_id  # the same task, a new attempt
        assert retry.step_name == "a"
        assert retry.input_task_ids == spec.input_task_ids
        assert retry.parent_refs == spec.parent_refs
        assert scheduler.next_wakeup() is None
        spec = retry
    last = result(spec, ok=False, exception_type="ValueError", exception="bad")
    assert scheduler.task_failed(spec, last) is False
    assert scheduler.failed
    assert scheduler.failed_tasks == [(spec, last)]
    assert scheduler.counts.failed == 1
    assert not scheduler.has_pending()


def test_a_retry_that_succeeds_continues_the_run() -> None:
    clock = FakeClock()
    scheduler = make_scheduler(LinearFlow, retries={"a": RetryPolicy(1, 0.0)}, clock=clock)
    succeed(scheduler, take(scheduler), "a")
    spec = take(scheduler)
    assert scheduler.task_failed(spec, result(spec, ok=False)) is True
    retry = take(scheduler)  # no delay: ready at once
    assert retry.attempt == 1
    succeed(scheduler, retry, "b")
    following = take(scheduler)
    assert following.step_name == "b"
    assert following.input_task_ids == (spec.task_id,)
    assert not scheduler.failed


def test_retry_policy_of_one_step_does_not_apply_to_another() -> None:
    scheduler = make_scheduler(LinearFlow, retries={"b": RetryPolicy(3, 0.0)}, clock=FakeClock())
    spec = take(scheduler)
    assert scheduler.task_failed(spec, result(spec, ok=False)) is False
    assert scheduler.failed


# -- identity -----------------------------------------------------------------------------
def test_task_ids_are_unique_across_a_whole_run() -> None:
    scheduler = make_scheduler(NestedForeachFlow)
    plan = {
        "start": lambda s: succeed(scheduler, s, "outer", **foreach(3, "start")),
        "outer": lambda s: succeed(scheduler, s, "inner", **foreach(4, s.task_id)),
        "inner": lambda s: succeed(scheduler, s, "inner_join"),
        "inner_join": lambda s: succeed(scheduler, s, "outer_join"),
        "outer_join": lambda s: succeed(scheduler, s, "end"),
        "end": lambda s: succeed(scheduler, s),
    }
    launched = []
    while (spec := scheduler.next_task()) is not None:
        launched.append(spec)
        plan[spec.step_name](spec)
    assert scheduler.end_reached
    assert len(launched) == 1 + 3 + 12 + 3 + 1 + 1
    assert len(set(ids(launched))) == len(launched)
    assert len({s.key for s in launched}) == len(launched)


def test_task_ids_follow_launch_order_across_a_static_split() -> None:
    scheduler = make_scheduler(BranchFlow)
    succeed(scheduler, take(scheduler), "left", "right")
    left, right = take(scheduler), take(scheduler)
    assert int(left.task_id) < int(right.task_id)


# -- one task (the one-task command) ------------------------------------------------------
def test_one_task_runs_with_its_retries_and_releases_nothing_after_it() -> None:
    clock = FakeClock()
    scheduler = Scheduler(
        build_graph(ForeachFlow), "ForeachFlow", "42", clock=clock,
        retries={"start": RetryPolicy(times=1, delay_seconds=30.0)},
    )  # fmt: skip
    given = TaskSpec("ForeachFlow", "42", "start", "t1d7af6b1ee2d", param_refs={"alpha": "r"})
    scheduler.start_one(given)
    first = take(scheduler)
    assert first == given and scheduler.next_task() is None
    assert scheduler.task_failed(first, result(first, ok=False)) is True
    clock.now += 30
    retry = take(scheduler)
    assert (retry.task_id, retry.attempt) == (given.task_id, 1)
    succeed(scheduler, retry, "body", **foreach(5, "start"))
    assert scheduler.end_reached and not scheduler.failed
    assert scheduler.next_task() is None and not scheduler.has_pending()  # no fan-out here


def test_one_task_with_catch_gets_its_fallback_attempt_then_fails_for_good_without() -> None:
    scheduler = Scheduler(build_graph(LinearFlow), "LinearFlow", "42",
                          retries={"a": RetryPolicy(times=0, catch=True)})  # fmt: skip
    scheduler.start_one(TaskSpec("LinearFlow", "42", "a", "tabc", attempt=3))
    spec = take(scheduler)
    assert scheduler.task_failed(spec, result(spec, ok=False)) is True
    fallback = take(scheduler)
    assert fallback.attempt == 4 and fallback.caught is not None
    plain = Scheduler(build_graph(LinearFlow), "LinearFlow", "42")
    plain.start_one(TaskSpec("LinearFlow", "42", "a", "tabc"))
    spec = take(plain)
    assert plain.task_failed(spec, result(spec, ok=False)) is False and plain.failed
