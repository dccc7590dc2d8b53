"""@catch, @timeout, @resources, @secrets, user decorators, --with, config files: for real."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stepwell.testing import run_flow

ROBUST = Path(__file__).parents[1] / "flows" / "robust"


def _attempts(run, step: str) -> list:
    [task] = run.tasks(step)
    return [
        run.metadata.get_task(run.flow_name, run.run_id, step, task.task_id, attempt=a)
        for a in range(task.attempt + 1)
    ]


@pytest.mark.parametrize("executor", ["fork", "subprocess"])
def test_catch_after_retries_lets_the_run_go_on_with_the_exception(
    executor: str, stepwell_home: Path
) -> None:
    run = run_flow(ROBUST / "catch_flow.py", "--executor", executor, home=stepwell_home)
    assert run.ok, run.stderr
    attempts = _attempts(run, "risky")
    assert [a.status for a in attempts] == ["failed", "failed", "succeeded"]
    assert "bad input on attempt 1" in (attempts[1].exception or "")
    end = run.artifacts("end")
    assert end["caught"] == ("ValueError", "ValueError: bad input on attempt 1")
    assert end["partial_survived"] is False  # the failed step's artifacts are not kept
    assert "@catch: step 'risky' failed on attempt 1" in run.stderr


def test_catch_also_catches_a_killed_task(stepwell_home: Path) -> None:
    run = run_flow(ROBUST / "catch_flow.py", "--how", "kill", home=stepwell_home)
    assert run.ok, run.stderr
    kind, message = run.artifacts("end")["caught"]
    assert kind == "TaskCrashed" and "SIGKILL" in message


def test_catch_var_is_none_when_the_step_succeeds(stepwell_home: Path) -> None:
    run = run_flow(ROBUST / "catch_flow.py", "--how", "ok", home=stepwell_home)
    assert run.ok, run.stderr
    end = run.artifacts("end")
    assert end["caught"] is None and end["partial_survived"] is True
    assert [a.status for a in _attempts(run, "risky")] == ["succeeded"]


def test_catch_cannot_continue_a_failed_foreach_split(stepwell_home: Path) -> None:
    run = run_flow(ROBUST / "catch_flow.py", "--how", "foreach", home=stepwell_home)
    assert not run.ok
    assert "@catch cannot continue step 'fan'" in run.stderr
    assert "foreach transition" in run.stderr


@pytest.mark.parametrize("executor", ["fork", "subprocess"])
def test_timeout_stops_a_task_stuck_in_native_code_ignoring_signals(
    executor: str, stepwell_home: Path
) -> None:
    began = time.monotonic()
    run = run_flow(ROBUST / "stuck_flow.py", "--executor", executor, home=stepwell_home)
    took = time.monotonic() - began
    assert not run.ok
    assert "ran longer than its @timeout(seconds=1) (1 s)" in run.stderr
    assert "TimeoutError" in run.stderr
    assert took < 40, "the stuck task was not stopped"


def test_timeout_gives_each_retry_the_full_time(stepwell_home: Path) -> None:
    run = run_flow(ROBUST / "timeout_flow.py", "--mode", "retry", home=stepwell_home)
    assert run.ok, run.stderr
    attempts = _attempts(run, "slow")
    assert [a.status for a in attempts] == ["failed", "succeeded"]
    assert "@timeout(seconds=1)" in (attempts[0].exception or "")
    assert run.artifacts("slow")["finished_on"] == 1


def test_timeout_then_catch(stepwell_home: Path) -> None:
    run = run_flow(ROBUST / "timeout_flow.py", "--mode", "catch", home=stepwell_home)
    assert run.ok, run.stderr
    assert run.artifacts("end")["caught"] == "TimeoutError"


def test_resources_admit_no_more_tasks_than_the_cpus_allow(stepwell_home: Path) -> None:
    run = run_flow(ROBUST / "resources_flow.py", "--max-workers", "3", home=stepwell_home)
    assert run.ok, run.stderr
    spans = run.artifacts("join")["spans"]
    for (_, first_end), (second_start, _) in itertools.pairwise(spans):
        assert second_start >= first_end - 0.05, f"branches overlapped: {spans}"


def test_a_request_larger_than_the_machine_is_capped_with_a_note(stepwell_home: Path) -> None:
    run = run_flow(ROBUST / "greedy_flow.py", home=stepwell_home)
    assert run.ok, run.stderr  # Metaflow's local runtime runs such a step too
    assert "Note: step 'train' asks for cpu=100000" in run.stderr
    assert "caps it to the machine" in run.stderr


def test_a_request_larger_than_the_machine_is_refused_when_strict(
    stepwell_home: Path,
) -> None:
    run = run_flow(
        ROBUST / "greedy_flow.py", home=stepwell_home, env={"STEPWELL_RESOURCES_STRICT": "1"}
    )
    assert not run.ok and run.run_id is None
    assert "Step 'train' asks for cpu=100000" in run.stderr
    assert f"this machine has {os.cpu_count()}" in run.stderr
    assert "Traceback" not in run.stderr


def test_secrets_reach_only_their_step_and_are_never_stored_or_shown(
    stepwell_home: Path, tmp_path: Path
) -> None:
    secret, file_secret = "hunter2-db-5e3c9a", "file-secret-77aa21"
    dotenv = tmp_path / "secrets.env"
    dotenv.write_text(f"# test secrets\nFILE_SECRET={file_secret}\n")
    run = run_flow(
        ROBUST / "secrets_flow.py",
        home=stepwell_home,
        env={"STEPWELL_SECRET_DB_PASSWORD": secret, "SECRETS_FILE_FOR_TEST": str(dotenv)},
    )
    assert run.ok, run.stderr
    assert run.artifacts("use")["password_length"] == len(secret)
    assert run.artifacts("from_file")["file_secret_seen"] is None
    assert run.artifacts("check_file")["file_secret_length"] == len(file_secret)
    assert run.artifacts("end")["leaked"] == []
    assert "connecting with ****" in run.stdout and "token ****" in run.stdout
    # The inline secret is written in the flow's source, so the run's code package holds
    # it as the user wrote it; no artifact, log or record may.
    from stepwell.store import ContentStore

    code_key = run.metadata.get_run("SecretsFlow", run.run_id).code_key
    code_blob = stepwell_home.joinpath(*ContentStore.object_key(code_key).split("/"))
    for value in (secret, file_secret, "tok-inline-5f2a"):
        assert value not in run.stdout + run.stderr
        for path in stepwell_home.rglob("*"):
            if path.is_file() and path != code_blob:
                assert value.encode() not in path.read_bytes(), f"{value} found in {path}"
    assert secret.encode() not in code_blob.read_bytes()


def test_a_user_step_decorator_wraps_the_step(stepwell_home: Path) -> None:
    run = run_flow(ROBUST / "user_decorator_flow.py", home=stepwell_home)
    assert run.ok, run.stderr
    start = run.artifacts("start")
    [task] = run.tasks("start")
    assert start["audit_before"] == f"alpha:start:{task.task_id}"
    assert start["audit_after"] == 40
    assert run.artifacts("end")["audit_before"].startswith("none:end:")


def test_with_attaches_a_decorator_to_every_step(stepwell_home: Path) -> None:
    flaky = ROBUST / "flaky_flow.py"
    assert not run_flow(flaky, home=stepwell_home).ok
    run = run_flow(flaky, "--with", "retry:times=2,minutes_between_retries=0", home=stepwell_home)
    assert run.ok, run.stderr
    assert run.artifacts("start")["attempt"] == 1
    bad = run_flow(flaky, "--with", "retyr", home=stepwell_home)
    assert not bad.ok and "No decorator named 'retyr'" in bad.stderr


def test_configs_from_toml_files_and_json_values(stepwell_home: Path, tmp_path: Path) -> None:
    toml = tmp_path / "train.toml"
    toml.write_text("cpu = 1\nepochs = 7\n")
    out = subprocess.run(
        [sys.executable, str(ROBUST / "config_files_flow.py"), "--config", "train", str(toml),
         "--config-value", "extra", '{"note": "from json"}', "run",
         "--run-id-file", str(tmp_path / "id")],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "STEPWELL_HOME": str(stepwell_home)},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    from stepwell.testing._runs import FlowRun

    run = FlowRun(stepwell_home, "ConfigFilesFlow", 0, "", "", (tmp_path / "id").read_text())
    start = run.artifacts("start")
    assert start["epochs"] == 7 and start["note"] == "from json"


def test_a_retry_delay_is_honoured_without_holding_other_tasks(stepwell_home: Path) -> None:
    run = run_flow(ROBUST / "retry_delay_flow.py", home=stepwell_home)
    assert run.ok, run.stderr
    flaky = next(t for t in run.tasks("work") if t.attempt == 1)
    first = run.metadata.get_task(run.flow_name, run.run_id, "work", flaky.task_id, attempt=0)
    second = run.metadata.get_task(run.flow_name, run.run_id, "work", flaky.task_id, attempt=1)
    assert second.started_at - first.finished_at >= 1.7
    done = run.artifacts("join")["done"]
    others = [at for index, at in done.items() if index != 0]
    assert max(others) < second.started_at  # the others did not wait for the retry


def test_a_secret_in_an_exception_is_masked_on_screen_and_in_the_store(
    stepwell_home: Path,
) -> None:
    secret = "key-9f8e7d6c5b"
    run = run_flow(ROBUST / "secret_error_flow.py", home=stepwell_home,
                   env={"STEPWELL_SECRET_API_KEY": secret})  # fmt: skip
    assert not run.ok
    assert "rejected key ****" in run.stderr and secret not in run.stderr + run.stdout
    for path in stepwell_home.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), f"found in {path}"


def test_a_missing_secret_fails_before_the_run(stepwell_home: Path) -> None:
    run = run_flow(ROBUST / "secret_error_flow.py", home=stepwell_home)
    assert not run.ok and run.run_id is None
    assert "STEPWELL_SECRET_API_KEY" in run.stderr and "Traceback" not in run.stderr


def test_catch_says_it_lets_the_run_go_on(stepwell_home: Path) -> None:
    run = run_flow(ROBUST / "catch_flow.py", home=stepwell_home)
    assert "failed, will retry (attempt 0)" in run.stderr
    assert "failed; @catch lets the run go on (attempt 1)" in run.stderr


def test_with_takes_values_containing_commas(stepwell_home: Path) -> None:
    run = run_flow(ROBUST / "flaky_flow.py", "--with", "retry:times=1,minutes_between_retries=0",
                   "--with", 'environment:vars={"A":"1","B":"2"}', home=stepwell_home)  # fmt: skip
    assert run.ok, run.stderr


def test_config_options_name_only_configs(stepwell_home: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(ROBUST / "config_files_flow.py"), "--config-value", "epochs", "{}",
         "run"], capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert out.returncode == 1 and "has no Config named 'epochs'" in out.stderr
    assert "train" in out.stderr and "Traceback" not in out.stderr


def test_a_yaml_config_file(stepwell_home: Path, tmp_path: Path) -> None:
    yaml_file = tmp_path / "train.yaml"
    yaml_file.write_text("cpu: 1\nepochs: 5\n")
    out = subprocess.run(
        [sys.executable, str(ROBUST / "config_files_flow.py"), "--config", "train",
         str(yaml_file), "run", "--run-id-file", str(tmp_path / "id")],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "STEPWELL_HOME": str(stepwell_home)},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    from stepwell.testing._runs import FlowRun

    run = FlowRun(stepwell_home, "ConfigFilesFlow", 0, "", "", (tmp_path / "id").read_text())
    assert run.artifacts("start")["epochs"] == 5
