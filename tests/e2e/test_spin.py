"""``spin``: one step run again with the inputs it had, recorded only with --persist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stepwell.metadata import SqliteMetadataStore

FLOW = Path(__file__).parents[1] / "flows" / "spin" / "spin_flow.py"


def _spin(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(FLOW), *args], cwd=cwd, capture_output=True, text=True,
        timeout=120, check=False, env={**os.environ, **env},
    )  # fmt: skip


def _runs(home: Path) -> int:
    return len(SqliteMetadataStore(home / "stepwell.db").list_runs("SpinFlow"))


@pytest.fixture
def failed_run(stepwell_home: Path, tmp_path: Path) -> Path:
    """A run whose foreach step 'train' failed: its inputs are recorded, its outputs are not."""
    out = _spin(tmp_path, "run", "--scale", "5", SPIN_FAIL="1")
    assert out.returncode == 1 and "train is not finished yet" in out.stderr
    return tmp_path


def test_spin_runs_the_fixed_step_with_its_inputs_and_records_nothing(
    failed_run: Path, stepwell_home: Path
) -> None:
    out = _spin(failed_run, "spin", "train")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "training on item 1\n"  # the first task: item 1 of [1, 2, 3]
    assert "Spun SpinFlow/1/train/2: done" in out.stderr
    assert _runs(stepwell_home) == 1
    assert not (failed_run / ".stepwell_spin").exists()


def test_a_step_that_still_fails_exits_non_zero_with_its_traceback(failed_run: Path) -> None:
    out = _spin(failed_run, "spin", "1/train", SPIN_FAIL="1")
    assert out.returncode == 1
    assert "Spun SpinFlow/1/train/2: failed" in out.stderr
    assert "RuntimeError: train is not finished yet" in out.stderr


def test_persist_records_the_task_for_inspect_spin(failed_run: Path, stepwell_home: Path) -> None:
    store = SqliteMetadataStore(stepwell_home / "stepwell.db")
    last = max(store.list_tasks("SpinFlow", "1", "train"), key=lambda t: int(t.task_id))
    assert last.index is not None and last.task_id != "2"  # not the first task of the foreach
    out = _spin(failed_run, "spin", f"1/train/{last.task_id}", "--persist")
    assert out.returncode == 0, out.stderr
    assert f"recorded as SpinFlow/1/train/{last.task_id}" in out.stderr  # the spin store's run 1
    from stepwell import Flow, inspect_spin
    from stepwell.client import reset_client

    inspect_spin(str(failed_run))
    try:
        run = Flow("SpinFlow").latest_run
        task = run["train"].task
        item = [1, 2, 3][last.index]
        assert task.data.score == 100 + item * 5  # its foreach item, the run's --scale 5
        assert task.data.seen == (run.id, last.task_id, last.index)  # current, self.index
        assert run.origin_pathspec == "SpinFlow/1"
        assert task["base"].data == 100  # inherited from start, read from the run's datastore
    finally:
        reset_client()
    assert _runs(stepwell_home) == 1  # the main store is untouched


def test_join_and_artifact_overrides(stepwell_home: Path, tmp_path: Path) -> None:
    assert _spin(tmp_path, "run").returncode == 0
    (tmp_path / "override.py").write_text("ARTIFACTS = {'base': 1000}\n")
    train = _spin(tmp_path, "spin", "train", "--persist", "--artifacts-module", "override.py")
    assert train.returncode == 0, train.stderr
    join = _spin(tmp_path, "spin", "join", "--persist")
    assert join.returncode == 0, join.stderr
    from stepwell import Flow, inspect_spin
    from stepwell.client import reset_client

    inspect_spin(str(tmp_path))
    try:
        by_step = {next(iter(run)).id: run for run in Flow("SpinFlow")}
        assert by_step["train"]["train"].task.data.score == 1000 + 1 * 10
        assert by_step["join"]["join"].task.data.scores == [110, 120, 130]  # inputs in order
    finally:
        reset_client()


def test_skip_decorators_runs_the_step_without_its_card(
    stepwell_home: Path, tmp_path: Path
) -> None:
    assert _spin(tmp_path, "run").returncode == 0
    assert _spin(tmp_path, "spin", "train", "--persist").returncode == 0
    assert _spin(tmp_path, "spin", "train", "--persist", "--skip-decorators").returncode == 0
    from stepwell import Flow, inspect_spin
    from stepwell.cards import get_cards
    from stepwell.client import reset_client

    inspect_spin(str(tmp_path))
    try:
        plain, skipped = sorted(Flow("SpinFlow"), key=lambda r: int(r.id))
        assert len(get_cards(plain["train"].task)) == 1
        assert len(get_cards(skipped["train"].task)) == 0
    finally:
        reset_client()


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("nope", "SpinFlow has no step 'nope'; its steps: start, train, join, end."),
        ("1/end", "run SpinFlow/1 never reached step 'end'"),
        ("1/train/99", "run 1 has no task 99 of step 'train'"),
        ("1/2/3/4", "give a step (train), RUN/STEP (12/train) or RUN/STEP/TASK"),
    ],
)
def test_bad_targets_say_what_is_wrong(failed_run: Path, target: str, message: str) -> None:
    out = _spin(failed_run, "spin", target)
    assert out.returncode == 1
    assert message in out.stderr and "Traceback" not in out.stderr


def test_spin_without_any_run_says_to_run_first(stepwell_home: Path, tmp_path: Path) -> None:
    out = _spin(tmp_path, "spin", "train")
    assert out.returncode == 1
    assert "Run the flow first" in out.stderr and "Traceback" not in out.stderr


def test_runner_spin(failed_run: Path) -> None:
    from stepwell import Runner
    from stepwell.client import reset_client

    runner = Runner(FLOW, show_output=False, cwd=failed_run)
    try:
        with runner.spin("train", persist=True) as spun:
            assert spun.status == "successful"
            assert spun.pathspec == "SpinFlow/1/train/2"
            assert spun.task["score"].data == 105
        transient = Runner(FLOW, show_output=False, cwd=failed_run).spin("train")
        assert transient.status == "successful" and transient.stdout == "training on item 1\n"
        with pytest.raises(RuntimeError, match="persist=True"):
            _ = transient.task
        with pytest.raises(TypeError, match="Valid keyword arguments: artifacts_module, persist"):
            Runner(FLOW, cwd=failed_run).spin("train", no_such_option=1)
    finally:
        reset_client()


def test_the_stepwell_command_spins_a_flow_file(failed_run: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "stepwell.cli", "spin", str(FLOW), "1/train"], cwd=failed_run,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "Spun SpinFlow/1/train/2: done" in out.stderr
