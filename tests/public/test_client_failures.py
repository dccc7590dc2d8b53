"""The Client API on a failed run and on a task retried once (@retry, no delay)."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from stepwell import Flow, Run, StepwellError, Task, compare_runs, default_namespace
from stepwell.testing import FlowRun, run_flow

CLIENT = Path(__file__).resolve().parents[1] / "flows" / "client"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, FlowRun]:
    home = tmp_path_factory.mktemp("client-failures")
    env = {"STEPWELL_USER": "tester"}
    made = {
        "fails": run_flow(CLIENT / "fails_flow.py", home=home, env=env),
        "retry": run_flow(CLIENT / "retry_once_flow.py", home=home, env=env),
    }
    assert made["fails"].returncode == 1 and made["fails"].run_id, made["fails"].stderr
    assert made["retry"].ok, made["retry"].stderr
    return made


@pytest.fixture(autouse=True)
def client_store(runs: dict[str, FlowRun], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPWELL_HOME", str(runs["fails"].home))
    default_namespace()


def test_failed_run(runs: dict[str, FlowRun]) -> None:
    run = Run(f"FailsFlow/{runs['fails'].run_id}")
    assert run.successful is False
    assert run.finished is True  # over: nothing more will happen to it
    assert run.finished_at is not None
    assert run.end_task is None and run.data is None
    assert [s.id for s in run] == ["explode", "start"]
    assert Flow("FailsFlow").latest_run == run
    assert Flow("FailsFlow").latest_successful_run is None


def test_failed_task_exception_and_logs(runs: dict[str, FlowRun]) -> None:
    run = Run(f"FailsFlow/{runs['fails'].run_id}")
    task = run["explode"].task
    assert task.successful is False and task.finished is True
    error = task.exception  # an exception object, as Metaflow's MetaflowExceptionWrapper
    assert isinstance(error, Exception)
    assert (error.type, error.exception) == ("builtins.ValueError", "the client test failure 1234")
    assert "fails_flow.py" in error.stacktrace  # the user's traceback
    assert str(error) == error.stacktrace and "ValueError: the client test" in error
    assert task.stdout == "about to fail\n"
    assert task.metadata_dict["attempt_ok"] == "False"
    start = run["start"].task
    assert start.successful and start.exception is None
    assert start.data.before == "stored before the failure"


def test_compare_needs_an_end_task(runs: dict[str, FlowRun]) -> None:
    failed = Run(f"FailsFlow/{runs['fails'].run_id}")
    with pytest.raises(KeyError, match="has no end task") as info:
        compare_runs(failed, Run(f"RetryOnceFlow/{runs['retry'].run_id}"))
    assert isinstance(info.value, StepwellError)


def test_latest_attempt_by_default(runs: dict[str, FlowRun]) -> None:
    task = Run(f"RetryOnceFlow/{runs['retry'].run_id}")["wobbly"].task
    assert task.current_attempt == 1
    assert task.successful and task.exception is None
    assert task.data.attempt_seen == 1
    assert task.stdout == "attempt 1 starting\n"
    assert [(m.name, m.value) for m in task.metadata if m.name.startswith("attempt")] == [
        ("attempt", "0"), ("attempt_ok", "False"), ("attempt", "1"), ("attempt_ok", "True"),
    ]  # fmt: skip
    assert task.metadata_dict["attempt"] == "1"


def test_an_earlier_attempt_by_number(runs: dict[str, FlowRun]) -> None:
    latest = Run(f"RetryOnceFlow/{runs['retry'].run_id}")["wobbly"].task
    first = Task(latest.pathspec, attempt=0)
    assert first.current_attempt == 0
    assert first.successful is False and first.finished is True
    assert first.exception is not None
    assert first.exception.type == "builtins.RuntimeError"
    assert first.exception.exception == "first attempt fails on purpose"
    assert [line for _, line in first.loglines("stdout", meta_dict={})] == ["attempt 0 starting"]
    assert first.stdout == "attempt 0 starting\n"
    assert "attempt_seen" not in first.data  # a failed attempt stores nothing
    assert [m.value for m in first.metadata if m.name == "attempt"] == ["0"]
    assert first != latest and Task(latest.pathspec, attempt=1) == latest
    assert repr(first) == f"Task('{latest.pathspec}', attempt=0)"
    again = pickle.loads(pickle.dumps(first))
    assert again.current_attempt == 0 and again == first


def test_unknown_or_invalid_attempt(runs: dict[str, FlowRun]) -> None:
    pathspec = Run(f"RetryOnceFlow/{runs['retry'].run_id}")["wobbly"].task.pathspec
    with pytest.raises(KeyError, match="Attempts recorded: 0, 1"):
        Task(pathspec, attempt=5)
    with pytest.raises(ValueError, match="attempt"):
        Task(pathspec, attempt=-1)
