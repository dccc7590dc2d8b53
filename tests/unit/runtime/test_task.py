"""The task runner in-process: artifacts in and out, errors the user sees."""

from __future__ import annotations

from pathlib import Path

from stepwell import FlowSpec, step
from stepwell.graph import build_graph
from stepwell.runtime._context import RunInfo, WorkerContext
from stepwell.runtime._spec import TaskSpec
from stepwell.runtime._task import run_task
from stepwell.store import save_artifacts


class TwoStepFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        self.seen = self.data + 1


class WrongTurnFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.a)

    @step
    def a(self):
        self.next(self.end)

    @step
    def end(self):
        pass


def _context(flow: type[FlowSpec], home: Path) -> WorkerContext:
    info = RunInfo(flow_name=flow.__name__, run_id="1", home=str(home), username="t",
                   namespace=None)  # fmt: skip
    return WorkerContext(info=info, flow_cls=flow, graph=build_graph(flow))


def test_an_end_step_reads_its_parents_artifact_and_stores_its_own(tmp_path: Path) -> None:
    ctx = _context(TwoStepFlow, tmp_path)
    refs = save_artifacts(ctx.store, {"data": 41})
    result = run_task(TaskSpec("TwoStepFlow", "1", "end", "2", parent_refs=refs), ctx)
    assert result.ok, result.traceback
    assert set(result.artifacts) == {"data", "seen", "_task_ok", "_success", "_foreach_stack"}
    assert result.artifacts["data"] == refs["data"]  # inherited by reference, not re-stored


def test_implicit_artifacts_travel_inline_and_hold_the_foreach_stack(tmp_path: Path) -> None:
    from stepwell.runtime._spec import Frame
    from stepwell.store import load_artifact

    ctx = _context(TwoStepFlow, tmp_path)
    refs = save_artifacts(ctx.store, {"data": 41})
    frames = (Frame("1", "foreach", 2, 5),)
    spec = TaskSpec("TwoStepFlow", "1", "end", "2", parent_refs=refs, frames=frames)
    result = run_task(spec, ctx)
    assert result.ok, result.traceback
    for name in ("_task_ok", "_success", "_foreach_stack"):
        assert result.artifacts[name].inline is not None  # no blob written for them
    assert load_artifact(ctx.store, result.artifacts["_task_ok"]) is True
    [frame] = load_artifact(ctx.store, result.artifacts["_foreach_stack"])
    assert (frame.index, frame.num_splits) == (2, 5)


def test_a_corrupt_parent_artifact_fails_the_task_naming_artifact_and_task(
    tmp_path: Path,
) -> None:
    ctx = _context(TwoStepFlow, tmp_path)
    refs = save_artifacts(ctx.store, {"data": list(range(10_000))})
    key = refs["data"].key
    blob = tmp_path / "objects" / key[:2] / key[2:]
    raw = bytearray(blob.read_bytes())
    raw[-1] ^= 0xFF
    blob.write_bytes(bytes(raw))
    result = run_task(TaskSpec("TwoStepFlow", "1", "end", "2", parent_refs=refs), ctx)
    assert not result.ok
    assert result.exception_type == "CorruptBlobError"
    assert "artifact 'data' of TwoStepFlow/1/end/2" in (result.exception or "")


def test_a_transition_the_graph_does_not_have_is_named_with_both_sides(tmp_path: Path) -> None:
    ctx = _context(WrongTurnFlow, tmp_path)

    def start(self: FlowSpec) -> None:  # the graph says a; this goes straight to end
        self.next(self.end)

    start.__stepwell_step__ = WrongTurnFlow.start.__stepwell_step__  # type: ignore[attr-defined]
    original = WrongTurnFlow.start
    WrongTurnFlow.start = start  # type: ignore[method-assign]
    try:
        result = run_task(TaskSpec("WrongTurnFlow", "1", "start", "1"), ctx)
    finally:
        WrongTurnFlow.start = original  # type: ignore[method-assign]
    assert not result.ok and result.exception_type == "TransitionError"
    assert "called self.next() to end" in (result.exception or "")
    assert "graph says a" in (result.traceback or "")
    assert "test_task.py:" in (result.traceback or "")
