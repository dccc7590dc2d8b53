"""The API on big stores: paginated runs, aggregated steps and a sampled timeline.

Timings (under 1 s for 10,000 runs / a 10,000-task foreach) are measured by
benchmarks/ui_speed.py, not here.
"""

from __future__ import annotations

from pathlib import Path

from stepwell.metadata import SqliteMetadataStore, TaskOutcome
from stepwell.ui._api import get_run, list_runs
from stepwell.ui._params import Query


def _new_run(meta: SqliteMetadataStore, flow: str) -> str:
    return meta.new_run(flow, user="tester", tags=(), system_tags=(), parameters={"n": "1"},
                        pid=1, host="h")  # fmt: skip


def test_runs_are_served_a_page_at_a_time(stepwell_home: Path) -> None:
    meta = SqliteMetadataStore(stepwell_home / "stepwell.db")
    for _ in range(120):
        run_id = _new_run(meta, "BigFlow")
        meta.finish_run("BigFlow", run_id, "succeeded")
    first = list_runs({"flow": "BigFlow"}, Query({}))
    assert len(first["runs"]) == 50 and first["has_more"]
    assert first["runs"][0]["id"] == "120"  # newest first
    last = list_runs({"flow": "BigFlow"}, Query({"offset": ["100"]}))
    assert len(last["runs"]) == 20 and not last["has_more"]


def test_the_run_of_a_10000_task_foreach_is_aggregated_and_sampled(stepwell_home: Path) -> None:
    meta = SqliteMetadataStore(stepwell_home / "stepwell.db")
    run_id = _new_run(meta, "WideFlow")
    width = 10_000

    def outcome(step: str, task_id: str, **kw: object) -> TaskOutcome:
        return TaskOutcome("WideFlow", run_id, step, task_id, 0, "succeeded", started_at=1.0,
                           finished_at=2.0, **kw)  # type: ignore[arg-type]  # fmt: skip

    tasks = [outcome("start", "0", next_steps=("work",), split_count=width)]
    tasks += [outcome("work", str(i + 1), index=i, next_steps=("join",)) for i in range(width)]
    tasks[-1] = TaskOutcome("WideFlow", run_id, "work", str(width), 0, "failed", started_at=1.0,
                            finished_at=2.0, index=width - 1, exception="boom")  # fmt: skip
    meta.record_tasks(tasks)
    data = get_run({"flow": "WideFlow", "run": run_id}, Query({}))
    work = next(s for s in data["dag"]["steps"] if s["name"] == "work")
    assert (work["tasks"], work["failed"], work["foreach_width"]) == (width, 1, width)
    assert data["timeline"]["sampled"] and len(data["timeline"]["bars"]) <= 1500
    assert data["tasks"]["work"][0]["status"] == "failed" and len(data["tasks"]["work"]) <= 100
