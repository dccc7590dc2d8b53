"""dump, logs, tag, and stepwell runs/show/logs on real runs."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from stepwell.testing import run_flow

FLOWS = Path(__file__).parents[1] / "flows"
LOGS_FLOW = FLOWS / "failing" / "logs_flow.py"
FOREACH = FLOWS / "shapes" / "foreach_flow.py"


def _cli(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=120,
                          check=False)  # fmt: skip


@pytest.fixture
def foreach_run(stepwell_home: Path):
    run = run_flow(FOREACH, "--tag", "first", home=stepwell_home)
    assert run.ok, run.stderr
    return run


def test_dump_prints_and_pickles_artifacts(foreach_run, tmp_path: Path) -> None:
    [end] = foreach_run.tasks("end")
    out = _cli(sys.executable, FOREACH, "dump", f"{foreach_run.run_id}/end/{end.task_id}")
    assert out.returncode == 0, out.stderr
    assert "sum_of_squares = 30" in out.stdout
    target = tmp_path / "dump.pkl"
    out = _cli(sys.executable, FOREACH, "dump", f"{foreach_run.run_id}/end", "--include",
               "sum_of_squares", "--file", target)  # fmt: skip
    assert out.returncode == 0, out.stderr
    [(pathspec, values)] = pickle.loads(target.read_bytes()).items()
    assert pathspec.endswith(f"/end/{end.task_id}") and values == {"sum_of_squares": 30}
    bad = _cli(sys.executable, FOREACH, "dump", f"{foreach_run.run_id}/end", "--include", "nope")
    assert bad.returncode == 1 and "no artifact nope" in bad.stderr


def test_logs_of_a_task_and_of_one_stream(stepwell_home: Path) -> None:
    run = run_flow(LOGS_FLOW, home=stepwell_home)
    assert run.ok, run.stderr
    step = "talk"
    out = _cli(sys.executable, LOGS_FLOW, "logs", f"{run.run_id}/{step}")
    assert "out line one" in out.stdout and "err line one" in out.stderr
    only = _cli(sys.executable, LOGS_FLOW, "logs", f"{run.run_id}/{step}", "--stderr")
    assert "out line one" not in only.stdout and "err line one" in only.stderr
    top = _cli(sys.executable, "-m", "stepwell.cli", "logs", f"{run.flow_name}/{run.run_id}/{step}")
    assert "out line three" in top.stdout


def test_tags_add_remove_replace_list(foreach_run) -> None:
    base = [sys.executable, FOREACH, "tag"]
    rid = ["--run-id", foreach_run.run_id]
    assert "demo, first" in _cli(*base, "add", "demo", *rid).stdout
    assert "best, first" in _cli(*base, "replace", "demo", "best", *rid).stdout
    listed = _cli(*base, "remove", "first", *rid)
    assert "user tags: best" in listed.stdout and "system tags:" in listed.stdout
    bad = _cli(*base, "add", "user:mallory", *rid)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr


def test_stepwell_runs_and_show(foreach_run) -> None:
    runs = _cli(sys.executable, "-m", "stepwell.cli", "runs")
    assert runs.returncode == 0, runs.stderr
    assert f"ForeachFlow/{foreach_run.run_id}" in runs.stdout and "succeeded" in runs.stdout
    shown = _cli(sys.executable, "-m", "stepwell.cli", "show", f"ForeachFlow/{foreach_run.run_id}")
    assert "status: succeeded" in shown.stdout and "step square: 4 task(s)" in shown.stdout
    assert "datastore: " in shown.stdout
    assert "code: " in shown.stdout and "/objects/" in shown.stdout
    missing = _cli(sys.executable, "-m", "stepwell.cli", "show", "ForeachFlow/9999")
    assert (
        missing.returncode == 1 and "9999" in missing.stderr and "Traceback" not in missing.stderr
    )
