"""``stepwell verify`` on the S3 datastore (a real S3-compatible server, moto, on 127.0.0.1)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from stepwell.store import ContentStore, Storage, get_storage
from stepwell.testing import FlowRun, run_flow

FLOW = Path(__file__).parents[1] / "flows" / "store" / "verify_me_flow.py"


def verify(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stepwell.cli", "verify", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def bucket(env: dict[str, str]) -> Storage:
    return get_storage(
        "s3", root=env["STEPWELL_DATASTORE_ROOT"], endpoint_url=env["STEPWELL_S3_ENDPOINT_URL"]
    )


def damage_big(run: FlowRun, storage: Storage) -> str:
    """Replace the 'big' blob of the run's start task with other bytes; return its key."""
    task = run.tasks("start")[0]
    key = str(run.metadata.list_artifacts(run.flow_name, run.run_id, "start", task.task_id)
              ["big"].key)  # fmt: skip
    object_key = ContentStore.object_key(key)
    blob = bytearray(storage.load_bytes(object_key))
    blob[-100:] = b"x" * 100
    storage.save_bytes(object_key, bytes(blob), overwrite=True)
    return key


def test_verify_finds_damage_in_the_bucket_and_repair_quarantines_it(
    s3_env: dict[str, str], stepwell_home: Path
) -> None:
    run = run_flow(FLOW, home=stepwell_home)
    assert run.ok, run.stderr
    storage = bucket(s3_env)
    assert verify().returncode == 0
    key = damage_big(run, storage)
    shutil.rmtree(stepwell_home / "cache", ignore_errors=True)  # no local copy to restore from

    found = verify()
    assert found.returncode == 1
    assert f"damaged  {key}" in found.stdout and s3_env["STEPWELL_DATASTORE_ROOT"] in found.stdout

    repaired = verify("--repair", f"VerifyMeFlow/{run.run_id}")
    assert repaired.returncode == 1, repaired.stdout
    assert f"{key} -> quarantined" in repaired.stdout
    assert not storage.exists(ContentStore.object_key(key))
    moved = list(storage.list(f"quarantine/objects/{key[:2]}/{key[2:]}/"))
    assert len(moved) == 2  # the damaged bytes and the note

    rerun = run_flow(FLOW, home=stepwell_home)
    assert rerun.ok, rerun.stderr
    after = verify()
    assert after.returncode == 0, after.stdout


def test_repair_restores_a_damaged_blob_from_this_machines_cache(
    s3_env: dict[str, str], stepwell_home: Path
) -> None:
    run = run_flow(FLOW, home=stepwell_home)
    assert run.ok, run.stderr
    storage = bucket(s3_env)
    key = damage_big(run, storage)
    assert (stepwell_home / "cache" / "objects" / key[:2] / key[2:]).exists()

    repaired = verify("--repair")
    assert repaired.returncode == 0, repaired.stdout  # the content is back: no damage remains
    assert f"{key} -> restored" in repaired.stdout
    assert verify().returncode == 0
    assert list(storage.list(f"quarantine/objects/{key[:2]}/"))  # the damaged bytes were kept
