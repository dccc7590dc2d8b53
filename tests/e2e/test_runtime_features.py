"""Runtime behaviour beyond the flow shapes: gangs, executors, the stepwell command."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from stepwell.testing import run_flow

FLOWS = Path(__file__).parents[1] / "flows"


@pytest.mark.parametrize("executor", ["fork", "subprocess"])
def test_a_parallel_gang_starts_together_even_with_one_worker(
    executor: str, stepwell_home: Path, tmp_path: Path
) -> None:
    run = run_flow(
        FLOWS / "runtime" / "gang_flow.py",
        "--max-workers", "1", "--executor", executor, "--rendezvous", str(tmp_path),
        home=stepwell_home,
    )  # fmt: skip
    assert run.ok, run.stderr
    assert run.artifacts("join")["ranks"] == [0, 1, 2]


def test_subprocess_executor_runs_a_file_without_a_main_block(
    stepwell_home: Path, tmp_path: Path
) -> None:
    source = (FLOWS / "shapes" / "linear_flow.py").read_text()
    source = re.sub(r'\nif __name__ == "__main__":\n.*', "\n", source, flags=re.S)
    flow = tmp_path / "no_main.py"
    flow.write_text(source)
    out = subprocess.run(
        [sys.executable, "-m", "stepwell.cli", "run", str(flow), "--executor", "subprocess"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "succeeded" in out.stderr


def test_stepwell_run_help_shows_usage() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "stepwell.cli", "run", "--help"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "FLOW_FILE" in out.stdout


def test_current_describes_the_running_task(stepwell_home: Path) -> None:
    run = run_flow(
        FLOWS / "runtime" / "current_flow.py", "--tag", "nightly", "--tag", "v2",
        home=stepwell_home, env={"STEPWELL_USER": "ana"},
    )  # fmt: skip
    assert run.ok, run.stderr
    [start] = run.tasks("start")
    seen = run.artifacts("start")["seen"]
    assert seen == {
        "flow_name": "CurrentFlow",
        "run_id": run.run_id,
        "step_name": "start",
        "task_id": start.task_id,
        "retry_count": 0,
        "origin_run_id": None,
        "pathspec": f"CurrentFlow/{run.run_id}/start/{start.task_id}",
        "namespace": "user:ana",
        "username": "ana",
        "tags": ["nightly", "v2"],
        "parameter_names": ["alpha"],
        "is_running_flow": True,
    }
    assert run.artifacts("end")["end_step"] == "end"
    record = run.metadata.get_run("CurrentFlow", run.run_id)
    assert record.user == "ana" and set(record.tags) == {"nightly", "v2"}


def test_config_values_reach_decorators_and_steps(stepwell_home: Path, tmp_path: Path) -> None:
    flow = FLOWS / "runtime" / "config_flow.py"
    run = run_flow(flow, home=stepwell_home)
    assert run.ok, run.stderr
    assert run.artifacts("start")["mode"] == "fast"
    settings = tmp_path / "settings.json"
    settings.write_text('{"env": {"MODE": "thorough"}, "retries": 2}')
    run = run_flow(flow, "--settings", str(settings), home=stepwell_home)
    assert run.ok, run.stderr
    data = run.artifacts("start")
    assert data["mode"] == "thorough" and data["retries"] == 2


def test_a_config_value_of_the_wrong_type_fails_naming_decorator_and_path(
    stepwell_home: Path, tmp_path: Path
) -> None:
    settings = tmp_path / "settings.json"
    settings.write_text('{"env": {"MODE": "x"}, "retries": "many"}')
    run = run_flow(FLOWS / "runtime" / "config_flow.py", "--settings", str(settings),
                   home=stepwell_home)  # fmt: skip
    assert not run.ok
    assert "@retry" in run.stderr and "'times' must be int" in run.stderr
    assert "settings.retries" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("options", "branch", "user_branch", "production"),
    [
        ((), "user.tester", True, False),
        (("--branch", "exp1"), "test.exp1", False, False),
        (("--production",), "prod", False, True),
    ],
)
def test_project_branches(
    options: tuple[str, ...], branch: str, user_branch: bool, production: bool,
    stepwell_home: Path, tmp_path: Path,
) -> None:  # fmt: skip
    flow = FLOWS / "runtime" / "project_flow.py"
    id_file = tmp_path / "id"
    out = subprocess.run(
        [sys.executable, str(flow), *options, "run", "--run-id-file", str(id_file)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    from stepwell.testing._runs import FlowRun

    run = FlowRun(stepwell_home, "ProjectFlow", 0, "", "", id_file.read_text())
    assert run.artifacts("start")["seen"] == {
        "project_name": "fraud_model",
        "branch_name": branch,
        "is_user_branch": user_branch,
        "is_production": production,
        "project_flow_name": f"fraud_model.{branch}.ProjectFlow",
    }
    system_tags = set(run.metadata.get_run("ProjectFlow", run.run_id).system_tags)
    assert {"project:fraud_model", f"project_branch:{branch}", "user:tester"} <= system_tags
    assert {t.split(":")[0] for t in system_tags} >= {
        "runtime",
        "python_version",
        "stepwell_version",
    }


def test_branch_without_project_is_an_error(stepwell_home: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(FLOWS / "shapes" / "linear_flow.py"), "--branch", "x", "run"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert out.returncode == 1 and "need @project" in out.stderr


def test_include_file_contents_become_an_artifact(stepwell_home: Path, tmp_path: Path) -> None:
    csv = tmp_path / "table.csv"
    csv.write_text("a,b\n1,2\n3,4\n")
    blob = tmp_path / "blob.bin"
    blob.write_bytes(bytes(range(256)))
    flow = FLOWS / "runtime" / "include_file_flow.py"
    run = run_flow(flow, "--table", str(csv), "--blob", str(blob), home=stepwell_home)
    assert run.ok, run.stderr
    data = run.artifacts("start")
    assert data["table"] == "a,b\n1,2\n3,4\n" and data["rows"] == 3
    assert data["blob"] == bytes(range(256)) and data["blob_size"] == 256
    missing = run_flow(flow, home=stepwell_home)
    assert not missing.ok and "'table' is required" in missing.stderr


def test_logs_follow_streams_a_running_task(stepwell_home: Path, tmp_path: Path) -> None:
    import os
    import time

    flow = FLOWS / "runtime" / "chatty_flow.py"
    id_file = tmp_path / "id"
    env = {**os.environ, "STEPWELL_HOME": str(stepwell_home)}
    running = subprocess.Popen([sys.executable, str(flow), "--quiet", "run", "--run-id-file",
                                str(id_file)], env=env)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not (id_file.exists() and id_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # the start task is running and has printed a little
        follow = subprocess.run(
            [sys.executable, str(flow), "logs", f"{id_file.read_text()}/start", "--follow"],
            capture_output=True, text=True, timeout=60, env=env, check=False,
        )  # fmt: skip
    finally:
        running.wait(timeout=60)
    assert follow.returncode == 0, follow.stderr
    assert [line for line in follow.stdout.splitlines() if line.startswith("tick")] == [
        f"tick {i}" for i in range(7)
    ]


def test_project_runs_are_in_the_user_namespace_and_found_by_branch_tag(
    stepwell_home: Path, tmp_path: Path
) -> None:
    from stepwell.testing._runs import FlowRun

    def run(flow: str, *options: str) -> FlowRun:
        id_file = tmp_path / f"id-{len(list(tmp_path.iterdir()))}"
        out = subprocess.run(
            [sys.executable, str(FLOWS / "runtime" / flow), *options, "run", "--run-id-file",
             str(id_file)], capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        name = "ProjectFlow" if flow == "project_flow.py" else "ProjectPeekFlow"
        return FlowRun(stepwell_home, name, 0, "", "", id_file.read_text())

    on_a = run("project_flow.py", "--branch", "a")
    on_b = run("project_flow.py", "--branch", "b")  # newer, but on another branch
    peek = run("project_peek_flow.py", "--branch", "a")
    seen = peek.artifacts("start")
    assert seen["namespace"] == "user:tester"  # Metaflow: @project keeps the user namespace
    assert seen["latest_run"] == on_b.run_id
    assert seen["seen_run"] == on_a.run_id  # its branch's runs, found by the branch's tag
