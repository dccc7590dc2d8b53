"""What a user sees, and what the store keeps, when a run goes wrong (and when it logs or retries).

Every flow runs for real (``python flow.py run``) under both local executors,
against the private STEPWELL_HOME of the test.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from stepwell.metadata import SqliteMetadataStore, TaskRecord
from stepwell.runtime import log_path, read_log
from stepwell.testing import FlowRun, run_flow

FLOWS = Path(__file__).resolve().parents[1] / "flows"
FAILING = FLOWS / "failing"
EXECUTORS = ["fork", "subprocess"]
STEPWELL_FRAMES = re.compile(r"[/\\]src[/\\]stepwell[/\\]")
TIMESTAMPED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z (.*)$")

both = pytest.mark.parametrize("executor", EXECUTORS)


def marked_line(path: Path, marker: str) -> int:
    """The line number of the line of ``path`` ending with ``# <marker>``."""
    lines = path.read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.rstrip().endswith(f"# {marker}"))


def run(name: str, executor: str, *args: str, home: Path) -> FlowRun:
    return run_flow(FAILING / name, "--executor", executor, *args, home=home)


def step_tasks(flow_run: FlowRun, step: str) -> list[TaskRecord]:
    """The tasks of ``step`` ([] when the step never ran)."""
    return [t for t in flow_run.tasks() if t.step_name == step]


def only_task(flow_run: FlowRun, step: str) -> TaskRecord:
    tasks = step_tasks(flow_run, step)
    assert len(tasks) == 1, f"{step}: {tasks}"
    return tasks[0]


def assert_run_failed(flow_run: FlowRun) -> None:
    assert flow_run.returncode == 1, flow_run.stderr
    assert flow_run.run_id is not None, flow_run.stderr
    record = flow_run.metadata.get_run(flow_run.flow_name, flow_run.run_id)
    assert record.status == "failed"
    assert "Internal error" not in flow_run.stderr


def assert_no_run_started(flow_run: FlowRun) -> None:
    assert flow_run.returncode != 0
    assert flow_run.run_id is None, "no run id may be written for a run that never started"
    assert flow_run.flow_name not in flow_run.metadata.list_flows()
    assert "Traceback" not in flow_run.stderr
    assert "Internal error" not in flow_run.stderr


# -- a step raises ------------------------------------------------------------------------
@both
def test_a_raising_step_fails_the_run_with_the_users_traceback(
    executor: str, stepwell_home: Path
) -> None:
    flow_file = FAILING / "raises_flow.py"
    flow_run = run("raises_flow.py", executor, home=stepwell_home)
    assert_run_failed(flow_run)

    boom = only_task(flow_run, "boom")
    assert boom.status == "failed"
    assert "ValueError: bad value 42" in (boom.exception or "")
    # the console names the failed task and shows the user's traceback, stepwell trimmed
    err = flow_run.stderr
    assert boom.pathspec == f"RaisesFlow/{flow_run.run_id}/boom/{boom.task_id}"
    assert boom.pathspec in err
    assert "ValueError: bad value 42" in err
    assert f'raises_flow.py", line {marked_line(flow_file, "RAISE")}, in check' in err
    assert f'raises_flow.py", line {marked_line(flow_file, "CALL")}, in boom' in err
    assert not STEPWELL_FRAMES.search(err), err
    assert not STEPWELL_FRAMES.search(boom.exception or "")

    # what succeeded before is recorded, with its artifacts
    assert only_task(flow_run, "start").status == "succeeded"
    assert only_task(flow_run, "middle").status == "succeeded"
    assert flow_run.artifacts("start")["greeting"] == "hello"
    middle = flow_run.artifacts("middle")
    assert (middle["greeting"], middle["value"]) == ("hello", 42)
    assert step_tasks(flow_run, "end") == []
    record = flow_run.metadata.get_run(flow_run.flow_name, flow_run.run_id)
    assert boom.pathspec in (record.error or "")


# -- a task process dies ------------------------------------------------------------------
def crashed(executor: str, how: str, home: Path) -> tuple[FlowRun, TaskRecord]:
    """Run crash_flow.py; check branch 0 is intact; return the run and branch 1's task."""
    flow_run = run("crash_flow.py", executor, "--how", how, "--max-workers", "2", home=home)
    assert_run_failed(flow_run)
    work = {t.index: t for t in step_tasks(flow_run, "work")}
    assert sorted(work) == [0, 1]
    assert work[0].status == "succeeded"
    assert flow_run.artifacts("work", work[0].task_id)["result"] == "branch 0 done"
    assert work[1].status == "failed"
    assert work[1].pathspec in flow_run.stderr
    assert step_tasks(flow_run, "join") == []
    return flow_run, work[1]


@both
def test_a_step_killed_by_sigkill_fails_the_run_and_keeps_its_sibling(
    executor: str, stepwell_home: Path
) -> None:
    flow_run, task = crashed(executor, "sigkill", stepwell_home)
    assert "SIGKILL" in flow_run.stderr
    assert "SIGKILL" in (task.exception or "")


@both
def test_a_step_calling_os_exit_reports_its_exit_code(executor: str, stepwell_home: Path) -> None:
    flow_run, task = crashed(executor, "exit3", stepwell_home)
    assert "exited with code 3" in flow_run.stderr
    assert "exited with code 3" in (task.exception or "")


@both
def test_sys_exit_in_a_step_is_the_steps_failure(executor: str, stepwell_home: Path) -> None:
    flow_run, task = crashed(executor, "sysexit", stepwell_home)
    assert "SystemExit: 2" in flow_run.stderr
    assert "SystemExit: 2" in (task.exception or "")
    assert "crash_flow.py" in (task.exception or "")  # the user's frame is in the traceback
    assert not STEPWELL_FRAMES.search(flow_run.stderr)


# -- foreach limits -----------------------------------------------------------------------
@both
def test_an_empty_foreach_fails_naming_the_step(executor: str, stepwell_home: Path) -> None:
    flow_run = run("foreach_width_flow.py", executor, "--width", "0", home=stepwell_home)
    assert_run_failed(flow_run)
    start = only_task(flow_run, "start")
    assert start.status == "failed"
    assert re.search(r"Step 'start' does a foreach .* empty", flow_run.stderr)
    assert "empty" in (start.exception or "")
    assert step_tasks(flow_run, "work") == []


def test_an_empty_foreach_points_at_the_users_foreach_line(stepwell_home: Path) -> None:
    flow_file = FAILING / "foreach_width_flow.py"
    flow_run = run("foreach_width_flow.py", "fork", "--width", "0", home=stepwell_home)
    assert_run_failed(flow_run)
    lines = flow_file.read_text().splitlines()
    line = next(n for n, text in enumerate(lines, 1) if 'foreach="items"' in text)
    assert re.search(rf"foreach_width_flow\.py\"?(:|, line ){line}\b", flow_run.stderr)
    assert not re.search(
        r"Traceback \(most recent call last\):\n\S*\s*ForeachError", flow_run.stderr
    )


@both
def test_a_foreach_wider_than_max_num_splits_says_how_to_raise_it(
    executor: str, stepwell_home: Path
) -> None:
    flow_run = run(
        "foreach_width_flow.py", executor, "--width", "10", "--max-num-splits", "5",
        home=stepwell_home,
    )  # fmt: skip
    assert_run_failed(flow_run)
    assert "Step 'start'" in flow_run.stderr
    assert "--max-num-splits 5" in flow_run.stderr  # the limit that was hit
    assert "Raise it with --max-num-splits 10" in flow_run.stderr  # and the fix
    assert only_task(flow_run, "start").status == "failed"
    assert step_tasks(flow_run, "work") == []


@both
def test_a_foreach_within_max_num_splits_runs(executor: str, stepwell_home: Path) -> None:
    flow_run = run(
        "foreach_width_flow.py", executor, "--width", "3", "--max-num-splits", "3",
        home=stepwell_home,
    )  # fmt: skip
    assert flow_run.ok, flow_run.stderr
    assert flow_run.artifacts("join")["doubles"] == [0, 2, 4]


# -- the run never starts -----------------------------------------------------------------
@both
def test_a_parameter_of_the_wrong_type_stops_the_run_before_it_starts(
    executor: str, stepwell_home: Path
) -> None:
    flow_run = run("params_flow.py", executor, "--count", "abc", "--label", "x", home=stepwell_home)
    assert_no_run_started(flow_run)
    assert "Parameter 'count' expects int" in flow_run.stderr
    assert "'abc'" in flow_run.stderr


@both
def test_a_missing_required_parameter_stops_the_run_before_it_starts(
    executor: str, stepwell_home: Path
) -> None:
    flow_run = run("params_flow.py", executor, "--count", "2", home=stepwell_home)
    assert_no_run_started(flow_run)
    assert "Parameter 'label' is required" in flow_run.stderr
    assert "--label" in flow_run.stderr


@both
def test_the_parameters_flow_runs_when_given_right(executor: str, stepwell_home: Path) -> None:
    flow_run = run("params_flow.py", executor, "--count", "2", "--label", "x", home=stepwell_home)
    assert flow_run.ok, flow_run.stderr
    assert flow_run.artifacts("start")["echo"] == "x:2"


@both
def test_a_lint_error_stops_the_run_with_the_finding(executor: str, stepwell_home: Path) -> None:
    flow_file = FAILING.parent / "lint" / "unknown-step.py"  # the linter's own fixture
    flow_run = run_flow(flow_file, "--executor", executor, home=stepwell_home)
    assert_no_run_started(flow_run)
    assert f"unknown-step.py:{marked_line(flow_file, 'LINT')}:" in flow_run.stderr
    assert "'trian'" in flow_run.stderr
    assert "Did you mean 'train'?" in flow_run.stderr


# -- joins --------------------------------------------------------------------------------
@both
def test_a_merge_conflict_fails_the_join_naming_the_artifact(
    executor: str, stepwell_home: Path
) -> None:
    flow_run = run("merge_conflict_flow.py", executor, home=stepwell_home)
    assert_run_failed(flow_run)
    join = only_task(flow_run, "join")
    assert join.status == "failed"
    assert re.search(r"MergeConflictError: .*disagree on conflict\b", flow_run.stderr)
    assert "shared" not in (join.exception or "").split("disagree on", 1)[1].split(".")[0]
    assert "MergeConflictError" in (join.exception or "")
    assert {t.status for t in step_tasks(flow_run, "left") + step_tasks(flow_run, "right")} == {
        "succeeded"
    }


# -- logs ---------------------------------------------------------------------------------
@both
def test_task_output_is_prefixed_on_the_console_and_timestamped_in_log_files(
    executor: str, stepwell_home: Path
) -> None:
    flow_run = run("logs_flow.py", executor, home=stepwell_home)
    assert flow_run.ok, flow_run.stderr
    talk = only_task(flow_run, "talk")
    prefix = f"[{flow_run.run_id}/talk/{talk.task_id}]"
    out_lines = [line for line in flow_run.stdout.splitlines() if line.startswith(prefix)]
    assert out_lines == [f"{prefix} out line {n}" for n in ("one", "two", "three")]
    assert f"{prefix} err line one" in flow_run.stderr.splitlines()
    assert f"{prefix} err line one" not in flow_run.stdout

    def path(step: str, task_id: str, stream: str) -> Path:
        return log_path(stepwell_home, "LogsFlow", flow_run.run_id or "", step, task_id, 0, stream)

    for stream, expected in (
        ("stdout", ["out line one", "out line two", "out line three"]),
        ("stderr", ["err line one"]),
    ):
        raw = path("talk", talk.task_id, stream).read_text().splitlines()
        matches = [TIMESTAMPED.match(line) for line in raw]
        assert all(matches), raw
        assert [m.group(1) for m in matches if m] == expected
        assert read_log(path("talk", talk.task_id, stream)) == "".join(f"{e}\n" for e in expected)
        assert (
            read_log(path("talk", talk.task_id, stream), timestamps=True) == "\n".join(raw) + "\n"
        )
    start = only_task(flow_run, "start")
    assert not path("start", start.task_id, "stdout").exists()  # a silent task writes no file
    assert read_log(path("start", start.task_id, "stdout")) == ""


# -- @retry -------------------------------------------------------------------------------
@both
def test_retry_runs_a_failing_step_again_until_it_succeeds(
    executor: str, stepwell_home: Path
) -> None:
    flow_run = run("retry_flow.py", executor, home=stepwell_home)
    assert flow_run.ok, flow_run.stderr
    flaky = only_task(flow_run, "flaky")
    assert (flaky.attempt, flaky.status) == (2, "succeeded")
    get = flow_run.metadata.get_task
    attempts = [
        get(flow_run.flow_name, flow_run.run_id, "flaky", flaky.task_id, attempt=k)
        for k in range(3)
    ]
    assert [a.attempt for a in attempts] == [0, 1, 2]
    assert [a.status for a in attempts] == ["failed", "failed", "succeeded"]
    for k in (0, 1):
        assert f"RuntimeError: flaky failure on attempt {k}" in (attempts[k].exception or "")
    assert flow_run.artifacts("flaky")["retry_count"] == 2
    assert "will retry" in flow_run.stderr
    assert only_task(flow_run, "end").status == "succeeded"
    record = flow_run.metadata.get_run(flow_run.flow_name, flow_run.run_id)
    assert record.status == "succeeded"


# -- concurrency --------------------------------------------------------------------------
@both
def test_eight_runs_at_once_against_one_home_all_succeed(
    executor: str, stepwell_home: Path, tmp_path: Path
) -> None:
    flow_file = FLOWS / "shapes" / "foreach_flow.py"
    env = {**os.environ, "STEPWELL_HOME": str(stepwell_home)}
    id_files = [tmp_path / f"run-id-{n}" for n in range(8)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(flow_file),
                "--quiet",
                "run",
                "--executor",
                executor,
                "--max-workers",
                "2",
                "--run-id-file",
                str(id_file),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for id_file in id_files
    ]
    outputs = [proc.communicate(timeout=300) for proc in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    run_ids = [f.read_text().strip() for f in id_files]
    assert len(set(run_ids)) == 8
    metadata = SqliteMetadataStore(stepwell_home / "stepwell.db")
    assert sorted(r.run_id for r in metadata.list_runs("ForeachFlow")) == sorted(run_ids)
    for run_id in run_ids:
        assert metadata.get_run("ForeachFlow", run_id).status == "succeeded"
        tasks = metadata.list_tasks("ForeachFlow", run_id)
        assert [t.step_name for t in tasks].count("square") == 4
        assert len(tasks) == 7
        assert {t.status for t in tasks} == {"succeeded"}


# -- a leaked background process ----------------------------------------------------------
def test_a_background_process_left_by_a_step_does_not_hold_the_run(stepwell_home: Path) -> None:
    seconds = 5
    flow_run = run_flow(
        FAILING / "background_flow.py", "--executor", "fork", "--seconds", str(seconds),
        home=stepwell_home,
    )  # fmt: skip
    assert flow_run.ok, flow_run.stderr
    start, end = only_task(flow_run, "start"), only_task(flow_run, "end")
    assert start.finished_at is not None
    # the next step starts as soon as the task reported and exited, not when the child ends
    assert end.started_at - start.finished_at < seconds / 2
