"""The web UI's API on big stores: a runs page of a flow with 10,000 runs, and the run
page of a 10,000-task foreach. Target: each answers in under 1 s (median of 5).

    .venv/bin/python benchmarks/ui_speed.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

from _common import scratch_dir


def _fill(home: Path) -> tuple[str, str]:
    from stepwell.metadata import SqliteMetadataStore, TaskOutcome

    meta = SqliteMetadataStore(home / "stepwell.db")
    new = dict(user="bench", tags=(), system_tags=(), parameters={}, pid=1, host="h")
    for _ in range(10_000):
        meta.finish_run("BigFlow", meta.new_run("BigFlow", **new), "succeeded")
    run_id = meta.new_run("WideFlow", **new)
    base = dict(started_at=1.0, finished_at=2.0)
    tasks = [TaskOutcome("WideFlow", run_id, "start", "0", 0, "succeeded",
                         next_steps=("work",), split_count=10_000, **base)]  # fmt: skip
    tasks += [TaskOutcome("WideFlow", run_id, "work", str(i + 1), 0, "succeeded", index=i,
                          next_steps=("join",), **base) for i in range(10_000)]  # fmt: skip
    meta.record_tasks(tasks)
    return "BigFlow", run_id


def _median_seconds(call, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    with scratch_dir() as scratch:
        os.environ["STEPWELL_HOME"] = str(scratch)
        print("filling a store with 10,000 runs and a 10,000-task foreach ...", flush=True)
        flow, wide_run = _fill(scratch)
        from stepwell.ui._api import get_run, list_runs
        from stepwell.ui._params import Query

        runs_page = _median_seconds(lambda: list_runs({"flow": flow}, Query({})))
        last_page = _median_seconds(lambda: list_runs({"flow": flow}, Query({"offset": ["9950"]})))
        run_page = _median_seconds(
            lambda: get_run({"flow": "WideFlow", "run": wide_run}, Query({}))
        )
    for name, seconds in (("runs page (first)", runs_page), ("runs page (last)", last_page),
                          ("run of a 10,000-task foreach", run_page)):  # fmt: skip
        verdict = "met" if seconds < 1.0 else "NOT met"
        print(f"{name:32s} {seconds * 1000:8.1f} ms   target < 1 s: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
