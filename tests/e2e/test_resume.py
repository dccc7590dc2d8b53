"""resume: successful tasks are cloned (not re-run), everything else runs again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stepwell.metadata import SqliteMetadataStore
from stepwell.testing import run_flow

FLOWS = Path(__file__).parents[1] / "flows" / "resume"
RESUME_FLOW = FLOWS / "resume_flow.py"


def _place(task) -> tuple:
    return task.step_name, tuple(tuple(f[1:]) for f in json.loads(task.foreach_stack))


def _trace(path: Path) -> list[str]:
    lines = path.read_text().splitlines() if path.exists() else []
    path.unlink(missing_ok=True)
    return lines


def _resume(home: Path, trace: Path, *args: str, env: dict[str, str] | None = None):
    return run_flow(RESUME_FLOW, *args, home=home, command=("resume",),
                    env={"RESUME_TRACE": str(trace), **(env or {})})  # fmt: skip


def _run_id_of_latest(home: Path, flow: str) -> str:
    return SqliteMetadataStore(home / "stepwell.db").latest_run(flow).run_id


def test_resume_clones_what_succeeded_and_reruns_the_rest(
    stepwell_home: Path, tmp_path: Path
) -> None:
    trace = tmp_path / "trace"
    env = {"RESUME_TRACE": str(trace), "FAIL_AT": "inner:1:2"}
    first = run_flow(RESUME_FLOW, "--scale", "2", home=stepwell_home, env=env)
    assert not first.ok
    _trace(trace)
    origin_done = {_place(t) for t in first.tasks() if t.status == "succeeded"}

    second = _resume(stepwell_home, trace)
    assert second.ok, second.stderr
    resume_id = _run_id_of_latest(stepwell_home, "ResumeFlow")
    store = SqliteMetadataStore(stepwell_home / "stepwell.db")
    tasks = store.list_tasks("ResumeFlow", resume_id)
    cloned = {_place(t) for t in tasks if t.origin_pathspec}
    assert cloned == origin_done  # every finished task reused, nothing else
    for task in tasks:
        if task.origin_pathspec:
            assert task.origin_pathspec.startswith(f"ResumeFlow/{first.run_id}/")
    rerun = _trace(trace)
    assert "start" not in rerun and "inner:1:2" in rerun and "end" in rerun
    assert len(rerun) == len(tasks) - len(cloned)
    second.run_id = resume_id
    end = second.artifacts("end")
    assert end["result"] == (360, 3)  # scale=2 came from the origin run
    assert end["origin"] == first.run_id
    assert store.get_run("ResumeFlow", resume_id).origin_run_id == first.run_id


def test_resume_step_runs_that_step_and_everything_after_again(
    stepwell_home: Path, tmp_path: Path
) -> None:
    trace = tmp_path / "trace"
    assert run_flow(RESUME_FLOW, home=stepwell_home, env={"RESUME_TRACE": str(trace)}).ok
    _trace(trace)
    second = _resume(stepwell_home, trace, "loop")
    assert second.ok, second.stderr
    assert _trace(trace) == ["loop:1", "loop:2", "loop:3", "end"]


def test_resume_across_a_failed_loop_iteration(stepwell_home: Path, tmp_path: Path) -> None:
    trace = tmp_path / "trace"
    first = run_flow(RESUME_FLOW, home=stepwell_home,
                     env={"RESUME_TRACE": str(trace), "FAIL_AT": "loop:2"})  # fmt: skip
    assert not first.ok
    _trace(trace)
    assert _resume(stepwell_home, trace).ok
    assert _trace(trace) == ["loop:2", "loop:3", "end"]


def test_resume_names_a_missing_origin_or_step(stepwell_home: Path, tmp_path: Path) -> None:
    trace = tmp_path / "trace"
    nothing = _resume(stepwell_home, trace)
    assert not nothing.ok and "no run of ResumeFlow" in nothing.stderr
    assert run_flow(RESUME_FLOW, home=stepwell_home, env={"RESUME_TRACE": str(trace)}).ok
    bad = _resume(stepwell_home, trace, "lopo")
    assert not bad.ok and "has no step 'lopo'" in bad.stderr
    missing = _resume(stepwell_home, trace, "--origin-run-id", "999")
    assert not missing.ok and "999" in missing.stderr and "Traceback" not in missing.stderr


@pytest.mark.parametrize("kill_after", [1, 3, 5])
def test_resume_after_the_scheduler_was_killed(
    kill_after: int, stepwell_home: Path, tmp_path: Path
) -> None:
    trace = tmp_path / "trace"
    env = {**os.environ, "STEPWELL_HOME": str(stepwell_home), "RESUME_TRACE": str(trace)}
    flow = FLOWS / "killable_flow.py"
    proc = subprocess.Popen(
        [sys.executable, str(flow), "--quiet", "run", "--max-workers", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while len(_lines(trace)) < kill_after and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    # the zygote stops the tasks still running; on a loaded machine that can lag, so wait
    # longer than any task takes (1 s): a late task's mark then lands before the reset below
    time.sleep(1.5)
    store = SqliteMetadataStore(stepwell_home / "stepwell.db")
    origin = store.latest_run("KillableFlow")
    assert store.get_run("KillableFlow", origin.run_id).status == "failed"
    recorded = {_place(t) for t in store.list_tasks("KillableFlow", origin.run_id)
                if t.status == "succeeded"}  # fmt: skip
    ran_before = _lines(trace)
    trace.unlink(missing_ok=True)

    resumed = run_flow(flow, home=stepwell_home, command=("resume",),
                       env={"RESUME_TRACE": str(trace)})  # fmt: skip
    assert resumed.ok, resumed.stderr
    new = store.latest_run("KillableFlow")
    tasks = store.list_tasks("KillableFlow", new.run_id)
    assert {_place(t) for t in tasks if t.origin_pathspec} == recorded
    rerun = _lines(trace)
    recorded_work = {place for place in recorded if place[0] == "work"}
    assert len(rerun) == 6 - len(recorded_work)  # each unfinished branch ran exactly once more
    assert len(ran_before) >= kill_after
    resumed.run_id = new.run_id
    assert resumed.artifacts("join")["total"] == 150


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_resume_with_a_chosen_run_id(stepwell_home: Path, tmp_path: Path) -> None:
    trace = tmp_path / "trace"
    first = run_flow(RESUME_FLOW, home=stepwell_home, env={"RESUME_TRACE": str(trace)})
    assert first.ok, first.stderr
    chosen = _resume(stepwell_home, trace, "end", "--run-id", "777")
    assert chosen.ok, chosen.stderr
    assert chosen.run_id == "777"
    taken = _resume(stepwell_home, trace, "end", "--run-id", "777")
    assert not taken.ok and "Run id 777 is taken" in taken.stderr
    bad = _resume(stepwell_home, trace, "--run-id", "abc")
    assert not bad.ok and "'abc' is not valid" in bad.stderr and "Traceback" not in bad.stderr
    after = run_flow(RESUME_FLOW, home=stepwell_home, env={"RESUME_TRACE": str(trace)})
    assert int(after.run_id) > 777  # the sequence moves past a chosen id
