"""A flow using Metaflow's API corners runs for real; results checked through the Client."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from stepwell.testing import run_flow

FLOW = Path(__file__).parents[1] / "flows" / "migration" / "metaflow_corners_flow.py"
SETTINGS = FLOW.parent / "settings.toml"


@pytest.fixture(scope="module")
def corners(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("home")
    began = time.monotonic()
    run = run_flow(
        FLOW,
        "--verbose",
        home=home,
        env={"STEPWELL_USER": "tester"},
        # Metaflow's --config NAME PATH, and a Parameter(is_flag=True) given as a bare flag
        command=("--config", "config", str(SETTINGS), "run"),
        timeout=120,
    )
    return run, time.monotonic() - began, home


def test_the_flow_runs_with_remote_decorators_and_a_config_named_config(corners) -> None:
    run, _, _ = corners
    assert run.ok, run.stderr
    assert "step 'start' has @kubernetes; this local run runs it here" in run.stderr
    assert "step 'join' has @batch" in run.stderr
    assert "step 'work' asks for cpu=4096" in run.stderr and "caps it to the machine" in run.stderr
    start = run.artifacts("start")
    assert start["learning_rate"] == 0.25  # parsed by the dotted-path parser tomllib.loads
    assert start["verbose_seen"] is True
    assert run.artifacts("join")["merge_error"] == "MergeMissingError"


def test_retry_does_not_wait_the_default_two_minutes_locally(corners) -> None:
    run, seconds, _ = corners
    assert run.ok, run.stderr
    assert seconds < 60


def test_flow_object_and_current_inside_a_step(corners) -> None:
    run, _, _ = corners
    start = run.artifacts("start")
    assert start["step_names"] == ["start", "work", "join", "end"]
    assert start["names"] == ("MetaflowCornersFlow", "metaflow_corners_flow.py")
    assert "THRESHOLD" in start["reassign_error"] and "not modifiable" in start["reassign_error"]
    seen = start["current_seen"]
    assert seen["is_running_flow"] is True and seen["retry_count"] == 0
    assert seen["origin_run_id"] is None and seen["trigger"] is None and seen["tags_is_set"]
    assert seen["pathspec"] == f"MetaflowCornersFlow/{run.run_id}/start/1"
    assert start["profiled"] == ["work"]


def test_implicit_artifacts_and_metaflow_exceptions_through_the_client(
    corners, monkeypatch: pytest.MonkeyPatch
) -> None:
    run, _, home = corners
    monkeypatch.setenv("STEPWELL_HOME", str(home))
    from stepwell import MetaflowNotFound, Run, Step, namespace
    from stepwell.client import reset_client

    reset_client()
    namespace(None)
    task = Step(f"MetaflowCornersFlow/{run.run_id}/start").task
    assert task.data._task_ok is True and task.data._success is True
    assert task.data._foreach_stack == []
    works = list(Step(f"MetaflowCornersFlow/{run.run_id}/work"))
    stacks = sorted((t.data._foreach_stack[0].index, t.data._foreach_stack[0].num_splits)
                    for t in works)  # fmt: skip
    assert stacks == [(0, 2), (1, 2)]
    assert Run(f"MetaflowCornersFlow/{run.run_id}").data.total == 6
    with pytest.raises(MetaflowNotFound):
        Run("MetaflowCornersFlow/999999")
    reset_client()


def test_show_lists_the_config_apart_from_parameters(tmp_path: Path) -> None:
    out = run_flow(FLOW, home=tmp_path, command=("show",))
    assert out.returncode == 0, out.stderr
    params = out.stdout[out.stdout.index("Parameters:") : out.stdout.index("Configs:")]
    assert "--verbose" in params and "--config" not in params
    assert "config (default file 'settings.toml')" in out.stdout
