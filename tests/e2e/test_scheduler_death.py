"""Killing the scheduler (kill -9) loses no finished task, leaves no orphan, and the run
is shown as failed, not running forever: on the embedded SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stepwell.metadata import open_metadata

FLOW = Path(__file__).parents[1] / "flows" / "runtime" / "sleepy_flow.py"


def _wait_for(path: Path, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return path.read_text()
        time.sleep(0.05)
    raise AssertionError(f"{path} never appeared")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(params=["local", "postgresql"])
def metadata_url(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "local":
        return "local"
    url: str = request.getfixturevalue("pg_url")
    monkeypatch.setenv("STEPWELL_METADATA", url)
    return url


def test_killed_scheduler_marks_run_failed_and_stops_its_tasks(
    stepwell_home: Path, tmp_path: Path, metadata_url: str
) -> None:
    pid_file, run_id_file = tmp_path / "task.pid", tmp_path / "run.id"
    scheduler = subprocess.Popen(
        [sys.executable, str(FLOW), "--quiet", "run", "--pid-file", str(pid_file),
         "--run-id-file", str(run_id_file)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        task_pid = int(_wait_for(pid_file))
        run_id = _wait_for(run_id_file)
        store = open_metadata(metadata_url, home=stepwell_home)
        assert store.get_run("SleepyFlow", run_id).status == "running"
        scheduler.send_signal(signal.SIGKILL)
        scheduler.wait(timeout=30)
    finally:
        if scheduler.poll() is None:
            scheduler.kill()
    deadline = time.monotonic() + 20
    while _alive(task_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(task_pid), "the running task outlived its scheduler"
    run = store.get_run("SleepyFlow", run_id)
    assert run.status == "failed" and run.error == "scheduler died"
    [start] = store.list_tasks("SleepyFlow", run_id, "start")
    assert start.status == "succeeded"
    assert "before" in store.list_artifacts("SleepyFlow", run_id, "start", start.task_id)
