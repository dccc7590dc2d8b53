"""kill -9 at named points of a run (STEPWELL_CRASH_AT), then resume: nothing finished is lost.

Each case kills a task process or the scheduler at one place: before or after
a task's blobs are written, between a finished task and its metadata commit,
after the commit, in the foreach and in the join. Then ``resume`` must reuse
every task the crashed run recorded as succeeded, run the rest, and reach the
same result; and no artifact of either run may point at a missing or wrong
blob (every blob referenced is read back and its hash checked).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from stepwell.metadata import SqliteMetadataStore
from stepwell.runtime._refs import refs_of
from stepwell.store import ContentStore, open_storage

FLOW = Path(__file__).parents[1] / "flows" / "crash" / "crashable_flow.py"
EXPECTED_TOTAL = 60


def _flow(home: Path, *args: str, crash: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STEPWELL_HOME": str(home)}
    env.pop("STEPWELL_CRASH_AT", None)
    if crash is not None:
        env["STEPWELL_CRASH_AT"] = crash
    return subprocess.run([sys.executable, str(FLOW), *args], capture_output=True, text=True,
                          timeout=120, check=False, env=env)  # fmt: skip


def _all_blobs_sound(store: SqliteMetadataStore, home: Path, run_id: str) -> int:
    """Read and hash-check every blob the run's artifacts reference; the number checked."""
    blobs = ContentStore(open_storage(str(home)))
    checked = 0
    for task in store.list_tasks("CrashableFlow", run_id):
        if task.status != "succeeded":
            continue
        records = store.list_artifacts("CrashableFlow", run_id, task.step_name, task.task_id)
        for ref in refs_of(records).values():
            if ref.inline is None:  # inline values live in the metadata itself
                blobs.load_blob(ref.key, verify=True)  # raises on missing or corrupt
                checked += 1
    return checked


@pytest.mark.parametrize(
    ("crash", "who"),
    [
        ("task.before-blobs@work", "task"),
        ("task.after-blobs@work", "task"),
        ("task.after-blobs@join", "task"),
        ("task.before-blobs@end", "task"),
        ("scheduler.before-record#2", "scheduler"),
        ("scheduler.after-record#2", "scheduler"),
        ("scheduler.before-record#4", "scheduler"),
        ("scheduler.after-record#5", "scheduler"),
    ],
)
def test_a_kill_at_any_point_loses_nothing_finished(
    crash: str, who: str, stepwell_home: Path
) -> None:
    crashed = _flow(stepwell_home, "run", "--max-workers", "1", crash=crash)
    if who == "scheduler":
        assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    else:  # the task died; the scheduler records it as crashed and the run fails
        assert crashed.returncode == 1, crashed.stderr
        assert "killed by SIGKILL" in crashed.stderr
    store = SqliteMetadataStore(stepwell_home / "stepwell.db")
    origin = store.latest_run("CrashableFlow")
    assert origin is not None and origin.status == "failed"
    finished = {(t.step_name, t.index) for t in store.list_tasks("CrashableFlow", origin.run_id)
                if t.status == "succeeded"}  # fmt: skip
    _all_blobs_sound(store, stepwell_home, origin.run_id)

    resumed = _flow(stepwell_home, "resume")
    assert resumed.returncode == 0, resumed.stderr
    new = store.latest_run("CrashableFlow")
    assert new is not None and new.run_id != origin.run_id and new.status == "succeeded"
    tasks = store.list_tasks("CrashableFlow", new.run_id)
    reused = {(t.step_name, t.index) for t in tasks if t.origin_pathspec}
    assert reused == finished  # every finished task reused, nothing else
    assert _all_blobs_sound(store, stepwell_home, new.run_id) > 0
    end = next(t for t in tasks if t.step_name == "end")
    join = next(t for t in tasks if t.step_name == "join")
    assert store.list_artifacts("CrashableFlow", new.run_id, "end", end.task_id)["done"]
    from stepwell.client import Task

    assert Task(f"CrashableFlow/{new.run_id}/join/{join.task_id}").data.total == EXPECTED_TOTAL


@pytest.mark.parametrize("crash", ["gc.after-runs", "gc.deleting-blobs#1", "gc.deleting-blobs#3"])
def test_a_gc_killed_at_any_point_loses_nothing_still_referenced(
    crash: str, stepwell_home: Path
) -> None:
    for _ in range(3):
        assert _flow(stepwell_home, "run").returncode == 0
    env = {**os.environ, "STEPWELL_HOME": str(stepwell_home), "STEPWELL_CRASH_AT": crash}
    gc = [sys.executable, "-m", "stepwell.cli", "gc", "--keep-last", "1", "--grace", "0", "--yes"]
    killed = subprocess.run(gc, capture_output=True, text=True, timeout=120, check=False, env=env)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    store = SqliteMetadataStore(stepwell_home / "stepwell.db")
    (survivor,) = store.list_runs("CrashableFlow")
    assert _all_blobs_sound(store, stepwell_home, survivor.run_id) > 0
    env.pop("STEPWELL_CRASH_AT")
    verify = [sys.executable, "-m", "stepwell.cli", "verify"]
    clean = subprocess.run(verify, capture_output=True, text=True, timeout=120, check=False,
                           env=env)  # fmt: skip
    assert clean.returncode == 0, clean.stdout + clean.stderr
    again = subprocess.run(gc, capture_output=True, text=True, timeout=120, check=False, env=env)
    assert again.returncode == 0, again.stderr
    assert _all_blobs_sound(store, stepwell_home, survivor.run_id) > 0
    from stepwell.client import Run

    assert Run(f"CrashableFlow/{survivor.run_id}")["join"].task.data.total == EXPECTED_TOTAL
