"""Generated DAGs in a real Airflow 3: imported by Airflow, run by ``airflow dags test``.

Airflow lives in its own virtual environment (``_airflow_env.py``, made by scripts/test.sh),
with stepwell installed from this checkout so its tasks can run ``stepwell task``. Each test
runs ``python FLOW airflow create`` with stepwell's interpreter, then Airflow's commands
with ``AIRFLOW_HOME`` in a temporary directory, then reads the run back through the Client
from the same ``STEPWELL_HOME``. Every Airflow command runs in its own process group, killed
when the command ends: no Airflow process outlives its test.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import _airflow_env  # tests/deploy/_airflow_env.py
import pytest

FLOWS = Path(__file__).parent / "flows"
SHAPES = FLOWS / "airflow_shapes.py"


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An AIRFLOW_HOME with a migrated SQLite database (once for the module)."""
    problem = _airflow_env.problem()
    if problem is not None:
        if _airflow_env.required():
            pytest.fail(f"Airflow's test environment is missing: {problem}")
        pytest.skip(f"Airflow's test environment is missing: {problem}")
    home = tmp_path_factory.mktemp("airflow")
    (home / "dags").mkdir()
    airflow(home, ["db", "migrate"], stepwell_home=home / "unused", timeout=240)
    yield home


def airflow_env(home: Path, stepwell_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    return {
        **env,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "STEPWELL_HOME": str(stepwell_home),
        "PATH": f"{_airflow_env.bin_dir()}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def airflow(
    home: Path, args: list[str], *, stepwell_home: Path, timeout: float, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """``airflow ARGS`` in a process group of its own, which is killed once it returns."""
    proc = subprocess.Popen(
        [str(_airflow_env.bin_dir() / "airflow"), *args],
        env=airflow_env(home, stepwell_home),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        output, _ = proc.communicate(timeout=timeout)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # anything it left behind
        proc.wait()
    done = subprocess.CompletedProcess(proc.args, proc.returncode, output, "")
    if check and proc.returncode != 0:
        command = " ".join(args)
        raise AssertionError(f"airflow {command} exited {proc.returncode}:\n{output[-6000:]}")
    return done


def create(flow_file: Path, home: Path, stepwell_home: Path, *options: str) -> Path:
    """``python FLOW airflow create`` into Airflow's dags folder; the DAG file."""
    target = home / "dags" / f"{flow_file.stem}{'_k8s' if options else ''}.py"
    done = subprocess.run(
        [sys.executable, str(flow_file), "airflow", "create", str(target), *options],
        env={**os.environ, "STEPWELL_HOME": str(stepwell_home)},
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return target


def in_airflow(home: Path, stepwell_home: Path, script: str) -> Any:
    """Run ``script`` with Airflow's Python; the JSON it prints last."""
    done = subprocess.run(
        [str(_airflow_env.bin_dir() / "python"), "-c", script],
        env=airflow_env(home, stepwell_home),
        capture_output=True, text=True, check=False, timeout=180, start_new_session=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def latest_run(flow: str) -> Any:
    from stepwell import Flow, namespace

    namespace(None)
    return Flow(flow).latest_run


def test_a_foreach_switch_join_and_retry_run_as_an_airflow_dag(
    airflow_home: Path, stepwell_home: Path
) -> None:
    create(SHAPES, airflow_home, stepwell_home)
    label = "it's {{ 1 + 1 }} $HOME"  # kept as given: no shell, no Jinja on the way
    airflow(
        airflow_home,
        ["dags", "test", "AirflowShapesFlow", "-c", json.dumps({"label": label})],
        stepwell_home=stepwell_home,
        timeout=300,
    )
    run = latest_run("AirflowShapesFlow")
    assert run.successful and "runtime:airflow" in run.system_tags
    assert run["gather"].task.data.squares == [1, 4, 9]  # the foreach, joined in split order
    assert (run.data.left_side, run.data.right_side) == (15, 28)  # the static branch, joined
    steps = {step.id for step in run}
    assert "big" in steps and "small" not in steps  # the switch's choice ran, the other not
    assert run.data.done == f"big:{label}"
    attempts = {task.index: task.current_attempt for task in run["square"]}
    assert attempts == {0: 0, 1: 1, 2: 0}  # split 1 failed once, Airflow retried it
    assert sorted(t.data.value for t in run["square"]) == [1, 4, 9]
    events = in_airflow(airflow_home, stepwell_home, _ASSET_EVENTS)
    # what a downstream DAG waits for; its extra names the run (current.trigger.run there)
    assert [e for e in events if e["uri"] == "stepwell://flows/AirflowShapesFlow"] == [
        {"uri": "stepwell://flows/AirflowShapesFlow",
         "extra": {"flow_name": "AirflowShapesFlow", "pathspec": run.pathspec}}
    ]  # fmt: skip


_ASSET_EVENTS = """
import json
from airflow.models.asset import AssetEvent
from airflow.utils.session import create_session
with create_session() as session:
    print(json.dumps([{"uri": e.asset.uri, "extra": e.extra} for e in session.query(AssetEvent)]))
"""


def test_a_killed_task_fails_the_dag_and_the_teardown_ends_the_run_failed(
    airflow_home: Path, stepwell_home: Path
) -> None:
    create(FLOWS / "airflow_killed.py", airflow_home, stepwell_home)
    done = airflow(
        airflow_home, ["dags", "test", "AirflowKilledFlow"],
        stepwell_home=stepwell_home, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode != 0, done.stdout[-3000:]
    assert "state=failed" in done.stdout
    run = latest_run("AirflowKilledFlow")
    assert run.finished and not run.successful  # ended by finish-run, not left running
    assert "end" not in {step.id for step in run}


def test_airflow_imports_the_generated_dags_with_the_arguments_they_were_given(
    airflow_home: Path, stepwell_home: Path
) -> None:
    decorated = FLOWS / "airflow_decorated.py"
    create(decorated, airflow_home, stepwell_home)
    create(decorated, airflow_home, stepwell_home, "--kubernetes", "--image", "reg/flows:1")
    create(FLOWS / "airflow_downstream.py", airflow_home, stepwell_home)
    found = in_airflow(airflow_home, stepwell_home, _DAGBAG)
    assert found["errors"] == {}
    dags = found["dags"]
    assert set(dags) >= {"AirflowDecoratedFlow", "shapes.user.tester.AirflowDownstreamFlow"}
    decorated_dag = dags["AirflowDecoratedFlow"]
    assert decorated_dag["params"] == ["alpha", "name", "note", "rounds", "spec", "verbose"]
    train = decorated_dag["tasks"]["train"]
    assert train["operator"] == "@task.bash"
    assert (train["retries"], train["retry_delay"], train["timeout"]) == (1, 30.0, 300.0)
    pods = dags["AirflowDecoratedFlow_k8s"]["tasks"]
    assert pods["train"]["operator"] == "@task.kubernetes_cmd"
    assert (pods["train"]["image"], pods["train"]["namespace"]) == ("reg/flows:1", "default")
    assert pods["train"]["resources"] == {
        "requests": {"cpu": "2", "memory": "8000Mi"},
        "limits": {"nvidia.com/gpu": "1"},
    }
    assert pods["end"]["image"] == "registry.example/special:1"
    assert pods["finish_run"]["teardown"] is True
    downstream = dags["shapes.user.tester.AirflowDownstreamFlow"]
    assert downstream["timetable"].startswith("AssetOrTimeSchedule(")
    assert "uri='stepwell://flows/shapes.user.tester.AirflowShapesFlow'" in downstream["timetable"]
    assert "expression='30 2 * * *', timezone='Europe/Paris'" in downstream["timetable"]
    assert downstream["tasks"]["end"]["outlets"] == [
        "stepwell://flows/shapes.user.tester.AirflowDownstreamFlow"
    ]


# Two files define DAG id AirflowDecoratedFlow (bash and pods): the pods' one is renamed here.
_DAGBAG = """
import json, os
from airflow.dag_processing.dagbag import DagBag

def describe(task):
    resources = getattr(task, "container_resources", None)
    timeout = task.execution_timeout
    return {
        "operator": getattr(task, "custom_operator_name", type(task).__name__),
        "retries": task.retries,
        "retry_delay": task.retry_delay.total_seconds(),
        "timeout": timeout.total_seconds() if timeout else None,
        "image": getattr(task, "image", None),
        "namespace": getattr(task, "namespace", None),
        "resources": resources.to_dict() and {
            k: v for k, v in resources.to_dict().items() if v} if resources else None,
        "teardown": task.is_teardown,
        "outlets": [getattr(a, "uri", None) for a in task.outlets],
    }

found, errors = {}, {}
folder = os.environ["AIRFLOW__CORE__DAGS_FOLDER"]
for name in sorted(os.listdir(folder)):
    bag = DagBag(dag_folder=os.path.join(folder, name))
    errors.update(bag.import_errors)
    for dag_id, dag in bag.dags.items():
        key = dag_id + ("_k8s" if name.endswith("_k8s.py") else "")
        found[key] = {
            "timetable": repr(dag.timetable),
            "params": sorted(dag.params.keys()),
            "tasks": {t.task_id: describe(t) for t in dag.tasks},
        }
print(json.dumps({"errors": {k: str(v)[-500:] for k, v in errors.items()}, "dags": found},
                 default=str))
"""
