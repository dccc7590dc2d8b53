"""Detect and repair on real runs: a damaged blob is stored again; ``stepwell verify``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stepwell.testing import FlowRun, run_flow

FLOW = Path(__file__).parents[1] / "flows" / "store" / "verify_me_flow.py"
STEPWELL = [sys.executable, "-m", "stepwell.cli"]


def verify(*args: str) -> subprocess.CompletedProcess[str]:
    """``stepwell verify ARGS`` against the test's STEPWELL_HOME (set in the environment)."""
    return subprocess.run(
        [*STEPWELL, "verify", *args], capture_output=True, text=True, timeout=120, check=False
    )


def blob_path(home: Path, key: str) -> Path:
    return home / "objects" / key[:2] / key[2:]


def damage(path: Path) -> None:
    with open(path, "r+b") as f:
        f.seek(1000)
        f.write(b"bit rot")


def keys_of(run: FlowRun, step: str, name: str) -> list[str]:
    return sorted(
        {
            run.metadata.list_artifacts(run.flow_name, run.run_id, step, t.task_id)[name].key
            for t in run.tasks(step)
        }
    )


@pytest.fixture
def first_run(stepwell_home: Path) -> FlowRun:
    run = run_flow(FLOW, home=stepwell_home)
    assert run.ok, run.stderr
    return run


def test_a_run_after_damage_stores_the_blob_again(first_run: FlowRun, stepwell_home: Path) -> None:
    [big] = keys_of(first_run, "start", "big")
    damage(blob_path(stepwell_home, big))
    again = run_flow(FLOW, home=stepwell_home)  # same seed: the same content is saved again
    assert again.ok, again.stderr  # before the fix: 'corrupt blob' in join, forever
    assert again.artifacts("join")["big"] == bytes([1]) * 200_000
    [quarantined] = (stepwell_home / "quarantine" / "objects").glob("*/*/*.json")
    note = json.loads(quarantined.read_text())
    assert note["key"] == big and note["by"] == "save"
    assert verify().returncode == 0  # the first run's reference is whole again


def test_verify_reports_damage_repair_quarantines_and_a_rerun_restores(
    first_run: FlowRun,
    stepwell_home: Path,
) -> None:
    pathspec = f"VerifyMeFlow/{first_run.run_id}"
    clean = verify()
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert f"{pathspec}: ok" in clean.stdout and "No damage found." in clean.stdout

    [big] = keys_of(first_run, "start", "big")
    part = keys_of(first_run, "work", "part")[0]
    damage(blob_path(stepwell_home, big))
    blob_path(stepwell_home, part).unlink()

    found = verify("VerifyMeFlow")
    assert found.returncode == 1
    assert f"{pathspec}: 1 damaged, 1 missing" in found.stdout
    assert f"damaged  {big}" in found.stdout and "its content hashes to" in found.stdout
    assert f"used by artifact 'big' of {pathspec}/start/" in found.stdout
    assert f"missing  {part}" in found.stdout
    assert "stepwell verify --repair" in found.stdout
    assert blob_path(stepwell_home, big).exists(), "verify without --repair moves nothing"

    repaired = verify("--repair", pathspec)
    assert repaired.returncode == 1, "quarantining does not restore content: damage remains"
    assert f"{big} -> quarantined" in repaired.stdout and f"{part} -> noted" in repaired.stdout
    assert "NOT restored" in repaired.stdout and "re-run the tasks" in repaired.stdout
    assert not blob_path(stepwell_home, big).exists()
    moved = [p for p in (stepwell_home / "quarantine").rglob("*") if p.is_file()]
    assert len([p for p in moved if p.suffix == ".json"]) == 2
    assert any(big[2:] in str(p) and p.suffix != ".json" for p in moved)

    from stepwell import Run
    from stepwell.exceptions import BlobNotFoundError

    with pytest.raises(BlobNotFoundError) as caught:
        _ = Run(pathspec)["start"].task["big"].data
    message = str(caught.value)
    assert "stepwell verify found it damaged" in message and "Re-run the task" in message

    rerun = run_flow(FLOW, home=stepwell_home)
    assert rerun.ok, rerun.stderr
    after = verify()
    assert after.returncode == 0, after.stdout
    assert f"{pathspec}: ok" in after.stdout
    assert Run(pathspec)["start"].task["big"].data == bytes([1]) * 200_000


def test_verify_checks_code_cards_and_foreach_items(
    first_run: FlowRun, stepwell_home: Path
) -> None:
    run = first_run.metadata.get_run("VerifyMeFlow", first_run.run_id)
    assert run.code_key
    damage_target = blob_path(stepwell_home, run.code_key)
    damage_target.unlink()
    start = first_run.tasks("start")[0]
    meta = first_run.metadata.get_task_metadata("VerifyMeFlow", run.run_id, "start", start.task_id)
    card = json.loads(next(v for k, v in meta.items() if k.startswith("card:")))
    blob_path(stepwell_home, card["key"]).unlink()
    items = json.loads(meta["transition"])["items_key"]
    blob_path(stepwell_home, items).unlink()
    out = verify(f"VerifyMeFlow/{run.run_id}")
    assert out.returncode == 1
    assert f"used by code package of run VerifyMeFlow/{run.run_id}" in out.stdout
    assert f"used by card card:default:0 (key) of VerifyMeFlow/{run.run_id}/start/" in out.stdout
    assert f"used by foreach items of VerifyMeFlow/{run.run_id}/start/" in out.stdout


def test_each_blob_is_read_once_however_many_runs_use_it(stepwell_home: Path) -> None:
    from stepwell.client._verify import references

    runs = [run_flow(FLOW, home=stepwell_home) for _ in range(3)]
    assert all(run.ok for run in runs)
    metadata = runs[0].metadata
    keys = [{k for k, _ in references(metadata, metadata.get_run(r.flow_name, r.run_id))[0]}
            for r in runs]  # fmt: skip
    distinct = set().union(*keys)
    assert len(distinct) < sum(len(k) for k in keys)  # the runs share most blobs
    out = verify()
    assert out.returncode == 0
    assert out.stdout.startswith(f"Verified 3 runs: {len(distinct)} blobs,"), out.stdout
    for run, run_keys in zip(runs, keys, strict=True):
        assert f"VerifyMeFlow/{run.run_id}: ok ({len(run_keys)} blobs" in out.stdout


@pytest.mark.parametrize(
    ("selection", "says"),
    [("NoSuchFlow", "Flow 'NoSuchFlow' has no runs"), ("A/1/extra", "use FLOW or FLOW/RUN_ID")],
)
def test_a_bad_selection_is_a_clear_error(first_run: FlowRun, selection: str, says: str) -> None:
    out = verify(selection)
    assert out.returncode == 1
    assert says in out.stderr and "Traceback" not in out.stderr


def test_an_empty_store_has_nothing_to_verify(stepwell_home: Path) -> None:
    out = verify()
    assert out.returncode == 0 and "No runs to verify." in out.stdout
