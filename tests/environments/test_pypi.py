"""@pypi / @conda steps run in environments built with uv, from a real index on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from stepwell import Flow
from stepwell.testing import run_flow

FLOWS = Path(__file__).parents[1] / "flows" / "environments"
CLI = [sys.executable, "-m", "stepwell.cli"]


def _envs(home: Path) -> list[Path]:
    return sorted(p for p in (home / "environments" / "envs").glob("*") if p.is_dir())


def test_steps_import_their_own_packages_and_conflicting_versions_coexist(
    uv_index: Any, stepwell_home: Path
) -> None:
    with pytest.raises(ImportError):
        import tomli_w  # noqa: F401  - the base environment of the tests lacks it
    run = run_flow(FLOWS / "pypi_flow.py", home=stepwell_home)
    assert run.ok, run.stderr
    assert "Resolving the environment of step 'old'" in run.stderr
    assert "Resolving the environment of step 'new'" in run.stderr
    flow_run = Flow("PypiFlow")[run.run_id]
    data = flow_run.data
    assert flow_run["start"].task.data.base_has is False
    assert data.join_has is False and data.end_has is False
    assert data.texts == [f"item = {i}\n" for i in (1, 2, 3, 4)]
    assert data.old_versions == ["1.0.0"] and data.new_version == "1.1.0"
    envs = _envs(stepwell_home)
    assert len(envs) == 2  # one per lock
    assert data.old_prefixes != [data.new_prefix] and len(data.old_prefixes) == 1
    assert {Path(data.old_prefixes[0]), Path(data.new_prefix)} == set(envs)
    # the four foreach tasks are forks of one zygote in that environment, not of the run
    assert len(data.zygotes) == 1


def test_the_lock_is_recorded_with_the_run_and_in_its_code_package(
    uv_index: Any, stepwell_home: Path
) -> None:
    run = run_flow(FLOWS / "pypi_flow.py", home=stepwell_home)
    assert run.ok, run.stderr
    flow_run = Flow("PypiFlow")[run.run_id]
    info = flow_run["old"].task.environment_info
    assert info["type"] == "pypi" and info["recorded"] is True
    assert info["requested"] == ["tomli-w==1.0.0"]
    assert info["packages"]["tomli-w"] == "1.0.0" and "blake3" in info["packages"]
    assert info["python_version"] == platform.python_version()
    assert flow_run["start"].task.environment_info["recorded"] is False  # the run's own Python
    code = flow_run.code
    steps = code.info["environments"]
    assert set(steps) == {"old", "new"} and steps["old"]["key"] == info["key"]
    lock = code.tarball.extractfile(steps["old"]["lock"]).read().decode()
    assert "tomli-w==1.0.0" in lock and "--hash=sha256:" in lock


def test_a_cached_environment_needs_no_resolution_nor_any_index(
    uv_index: Any, stepwell_home: Path, tmp_path: Path
) -> None:
    first = run_flow(FLOWS / "pypi_flow.py", home=stepwell_home)
    assert first.ok, first.stderr
    locks = sorted((stepwell_home / "environments" / "locks").glob("*.json"))
    stamps = [p.stat().st_mtime_ns for p in locks]
    # no index to reach and an empty uv cache: any resolution or install would fail
    offline = {"UV_INDEX_URL": "http://127.0.0.1:9/simple", "UV_CACHE_DIR": str(tmp_path / "e")}
    second = run_flow(FLOWS / "pypi_flow.py", home=stepwell_home, env=offline)
    assert second.ok, second.stderr
    assert "Resolving" not in second.stderr and "Building" not in second.stderr
    assert [p.stat().st_mtime_ns for p in locks] == stamps
    assert len(_envs(stepwell_home)) == 2


def test_a_bad_package_name_stops_the_run_at_start_naming_it(
    uv_index: Any, stepwell_home: Path
) -> None:
    run = run_flow(FLOWS / "pypi_bad_name_flow.py", home=stepwell_home)
    assert run.returncode == 1
    assert "A step environment cannot be built" in run.stderr
    assert "stepwell-no-such-package-anywhere" in run.stderr
    assert "No package named 'stepwell-no-such-package-anywhere' is on the index" in run.stderr
    assert "pypi_bad_name_flow.py:7" in run.stderr  # the step that asks
    assert "Traceback" not in run.stderr
    assert run.run_id is None  # stopped before any run was recorded
    assert _envs(stepwell_home) == []


def _tiny_wheel(folder: Path) -> Path:
    """A one-module wheel, written by hand (no build tool, no network)."""
    files = {
        "swtiny/__init__.py": b"ANSWER = 42\n",
        "swtiny-0.1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: swtiny\nVersion: 0.1.0\n",
        "swtiny-0.1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: stepwell-tests\n"
        b"Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append("swtiny-0.1.0.dist-info/RECORD,,")
    path = folder / "swtiny-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for name, data in files.items():
            wheel.writestr(name, data)
        wheel.writestr("swtiny-0.1.0.dist-info/RECORD", "\n".join(record) + "\n")
    return path


def test_an_offline_build_from_a_local_wheelhouse(
    wheelhouse: Path, stepwell_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = tmp_path / "wheels"
    local.mkdir()
    _tiny_wheel(local)
    for wheel in wheelhouse.glob("*.whl"):  # stepwell's own requirements, for its worker
        (local / wheel.name).symlink_to(wheel)
    monkeypatch.setenv("UV_OFFLINE", "1")
    monkeypatch.setenv("UV_FIND_LINKS", str(local))
    monkeypatch.setenv("UV_INDEX_URL", "http://127.0.0.1:9/simple")  # nothing listens there
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    monkeypatch.setenv("UV_NO_CONFIG", "1")
    run = run_flow(FLOWS / "pypi_offline_flow.py", home=stepwell_home)
    assert run.ok, run.stderr
    data = Flow("OfflineFlow")[run.run_id].data
    assert data.answer == 42 and data.again == 42
    assert len(_envs(stepwell_home)) == 1  # @pypi_base: start and end share one environment


def test_conda_packages_that_pypi_has_are_built_from_pypi(
    uv_index: Any, stepwell_home: Path
) -> None:
    run = run_flow(
        FLOWS / "conda_flow.py", home=stepwell_home, command=("--environment=conda", "run")
    )
    assert run.ok, run.stderr
    flow_run = Flow("CondaFlow")[run.run_id]
    assert flow_run["start"].task.data.version == "1.0.0"
    assert flow_run["start"].task.environment_info["type"] == "conda"


def test_a_conda_only_package_stops_the_run_saying_why(uv_index: Any, stepwell_home: Path) -> None:
    run = run_flow(FLOWS / "conda_only_flow.py", home=stepwell_home)
    assert run.returncode == 1
    assert "stepwell-conda-only-package" in run.stderr
    assert "builds @conda environments from PyPI under the same names" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_python_this_machine_lacks_is_named_before_the_run(
    uv_index: Any, stepwell_home: Path
) -> None:
    run = run_flow(FLOWS / "pypi_python_flow.py", home=stepwell_home)
    assert run.returncode == 1
    assert "Step 'start' asks for Python 3.99" in run.stderr
    assert f"this run's is {platform.python_version()}" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_top_level_import_the_environment_lacks_is_explained(
    uv_index: Any, stepwell_home: Path
) -> None:
    pytest.importorskip("numpy")
    run = run_flow(FLOWS / "pypi_top_import_flow.py", home=stepwell_home)
    assert run.returncode == 1
    assert "The environment of step 'inside'" in run.stderr
    assert "No module named 'numpy'" in run.stderr
    assert "add it to the step's @pypi packages" in run.stderr
    runs = list(Flow("TopImportFlow").runs())
    assert len(runs) == 1 and not runs[0].successful  # recorded as failed, resumable


def test_concurrent_runs_build_a_shared_environment_once(
    uv_index: Any, stepwell_home: Path
) -> None:
    env = {**os.environ, "STEPWELL_HOME": str(stepwell_home)}
    procs = [
        subprocess.Popen([sys.executable, str(FLOWS / "pypi_flow.py"), "run"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]  # fmt: skip
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    built = sum(err.count("Building the environment of step") for _out, err in outputs)
    assert built == 2  # 'old' and 'new' each built once, by one of the two runs
    assert len(_envs(stepwell_home)) == 2


def test_subprocess_executor_and_resume_use_the_environments(
    uv_index: Any, stepwell_home: Path
) -> None:
    failed = run_flow(FLOWS / "pypi_flow.py", "--executor", "subprocess", home=stepwell_home,
                      env={"PYPI_FLOW_FAIL": "1"})  # fmt: skip
    assert failed.returncode == 1 and "failing on purpose" in failed.stderr
    assert Flow("PypiFlow")[failed.run_id]["join"].task.data.old_versions == ["1.0.0"]
    resumed = run_flow(FLOWS / "pypi_flow.py", home=stepwell_home, command=("resume",))
    assert resumed.ok, resumed.stderr
    new = Flow("PypiFlow")[resumed.run_id]["new"].task
    assert new.data.new_version == "1.1.0"
    assert json.loads(new.metadata_dict["environment"])["requested"] == ["tomli-w==1.1.0"]


def test_environments_list_and_prune(uv_index: Any, stepwell_home: Path) -> None:
    run = run_flow(FLOWS / "pypi_flow.py", home=stepwell_home)
    assert run.ok, run.stderr
    listed = subprocess.run([*CLI, "environments", "list"], capture_output=True, text=True,
                            env={**os.environ, "STEPWELL_HOME": str(stepwell_home)})  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert "tomli-w==1.0.0" in listed.stdout and "tomli-w==1.1.0" in listed.stdout
    kept = subprocess.run([*CLI, "environments", "prune"], capture_output=True, text=True,
                          env={**os.environ, "STEPWELL_HOME": str(stepwell_home)})  # fmt: skip
    assert kept.returncode == 0 and len(_envs(stepwell_home)) == 2  # used just now: kept
    pruned = subprocess.run([*CLI, "environments", "prune", "--older-than-days", "0"],
                            capture_output=True, text=True,
                            env={**os.environ, "STEPWELL_HOME": str(stepwell_home)})  # fmt: skip
    assert pruned.returncode == 0, pruned.stderr
    assert "Removed 2 environments" in pruned.stdout
    assert _envs(stepwell_home) == []
    again = run_flow(FLOWS / "pypi_flow.py", home=stepwell_home)  # rebuilt from the kept locks
    assert again.ok, again.stderr
    assert "Resolving" not in again.stderr and "Building" in again.stderr


def test_a_step_on_another_python_than_the_run(uv_index: Any, stepwell_home: Path) -> None:
    from stepwell.environments._store import _find_python

    if sys.version_info[:2] == (3, 12) or _find_python("3.12")[0] is None:
        pytest.skip("needs a Python 3.12 beside a run on another Python")
    run = run_flow(FLOWS / "pypi_python_version_flow.py", home=stepwell_home)
    assert run.ok, run.stderr
    data = Flow("OtherPythonFlow")[run.run_id]
    assert data["elsewhere"].task.data.python == [3, 12]
    assert data["elsewhere"].task.data.text == "total = 6\n"
    assert data["end"].task.data.end_python == list(sys.version_info[:2])
    assert data["elsewhere"].task.environment_info["python_version"].startswith("3.12.")


def test_spin_runs_a_pypi_step_in_its_environment(
    uv_index: Any, stepwell_home: Path, tmp_path: Path
) -> None:
    run = run_flow(FLOWS / "pypi_flow.py", home=stepwell_home)
    assert run.ok, run.stderr
    spun = subprocess.run(
        [sys.executable, str(FLOWS / "pypi_flow.py"), "spin", "new", "--persist"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
        env={**os.environ, "STEPWELL_HOME": str(stepwell_home)},
    )  # fmt: skip
    assert spun.returncode == 0, spun.stderr
    from stepwell import inspect_spin
    from stepwell.client import reset_client

    inspect_spin(str(tmp_path))
    try:
        task = Flow("PypiFlow").latest_run["new"].task
        assert task.data.new_version == "1.1.0"
        assert Path(task.data.new_prefix).parent == stepwell_home / "environments" / "envs"
    finally:
        reset_client()


def test_a_pypi_step_on_the_s3_datastore(
    uv_index: Any, stepwell_home: Path, s3_env: dict[str, str]
) -> None:
    run = run_flow(FLOWS / "pypi_flow.py", home=stepwell_home)
    assert run.ok, run.stderr
    flow_run = Flow("PypiFlow")[run.run_id]
    assert flow_run.data.new_version == "1.1.0"
    assert flow_run["old"].task.environment_info["packages"].get("obstore")  # S3 in the env
    assert not (stepwell_home / "objects").exists()  # every blob went to the bucket


def test_deployed_tasks_rebuild_their_environment_from_the_lock_in_the_code_package(
    uv_index: Any, stepwell_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What an Argo pod or an Airflow worker does: `stepwell task --package KEY` per task."""
    from tests.e2e._orchestrator import drive

    from stepwell.config import load_settings
    from stepwell.deploy._prepare import store_code
    from stepwell.flow import load_flow_class
    from stepwell.graph import check_flow
    from stepwell.metadata import open_metadata

    flow_cls = load_flow_class(FLOWS / "pypi_flow.py")
    key = store_code(flow_cls, load_settings(), str(FLOWS / "pypi_flow.py"))["code_key"]
    envs = _envs(stepwell_home)
    assert len(envs) == 2  # resolved and built when the flow was deployed
    # A worker can neither resolve (no resolutions kept, no index) nor need to: the locks
    # are in the package, and the environments they name are built.
    shutil.rmtree(stepwell_home / "environments" / "locks")
    monkeypatch.setenv("UV_INDEX_URL", "http://127.0.0.1:9/simple")
    outputs: list[str] = []

    def run_task(step: str, inputs: list[str], split: int | None) -> dict[str, Any]:
        argv = [sys.executable, "-m", "stepwell.cli", "task", step, "--flow", "pypi_flow.py",
                "--package", key, "--run-key", "deployed-1"]  # fmt: skip
        argv += [a for i in inputs for a in ("--input", i)]
        argv += ["--split-index", str(split)] if split is not None else []
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stderr)
        return json.loads(done.stdout.strip().splitlines()[-1])

    metadata = open_metadata("local", home=stepwell_home)
    results = drive(run_task, check_flow(flow_cls), metadata, "PypiFlow")
    assert not any("Resolving the environment" in text for text in outputs)
    data = Flow("PypiFlow")[results[0]["run_id"]].data
    assert data.old_versions == ["1.0.0"] and data.new_version == "1.1.0"
    assert {Path(p) for p in [*data.old_prefixes, data.new_prefix]} == set(envs)
    assert data.join_has is False and data.end_has is False
