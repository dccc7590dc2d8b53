"""Compiled workflows, run: each container's one-task command really runs, in Argo's order.

``argo_sim`` plays Argo's controller (no cluster can run here); the tasks are
the real ``stepwell task`` commands from the stored code package, and the runs
they record are checked through the Client API against each flow's EXPECTED.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from argo_sim import Simulator

from stepwell.config import load_settings
from stepwell.deploy.argo import ArgoOptions, prepare_argo
from stepwell.flow import load_flow_class

HERE = Path(__file__).resolve().parent
SHAPES = HERE.parent / "flows" / "shapes"
STEPWELL = str(Path(sys.executable).parent / "stepwell")


def _deploy_and_run(source: Path, tmp_path: Path, **parameters: str) -> tuple[Simulator, Any]:
    folder = tmp_path / "code"
    folder.mkdir(parents=True)
    flow_file = Path(shutil.copy(source, folder / source.name))
    flow_cls = load_flow_class(flow_file)
    built = prepare_argo(flow_cls, load_settings(), ArgoOptions(), flow_file=str(flow_file))
    workdir = tmp_path / "pods"
    workdir.mkdir()
    sim = Simulator(built.documents[0], stepwell=STEPWELL, workdir=workdir,
                    env=dict(os.environ), parameters=parameters)  # fmt: skip
    status = sim.run()
    assert status == "Succeeded", sim.commands[-1]
    from stepwell.client import Flow, namespace

    namespace(None)
    runs = list(Flow(flow_cls.__name__).runs())
    assert len(runs) == 1
    return sim, runs[0]


def _expected(path: Path, name: str = "EXPECTED") -> dict[str, Any]:
    spec = importlib.util.spec_from_file_location(f"expected_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(getattr(module, name))


@pytest.mark.parametrize(
    "shape",
    ["branch_flow", "foreach_flow", "nested_foreach_flow", "switch_flow", "recursion_flow",
     "loop_back_flow"],
)  # fmt: skip
def test_a_compiled_shape_runs_to_its_expected_result(shape: str, tmp_path: Path) -> None:
    sim, run = _deploy_and_run(SHAPES / f"{shape}.py", tmp_path)
    assert run.successful
    for name, value in _expected(SHAPES / f"{shape}.py").items():
        assert getattr(run.data, name) == value, name
    assert "runtime:argo-workflows" in run.system_tags
    # every task found the run by the workflow's key; the exit handler ran last
    keys = {argv[argv.index("--run-key") + 1] for argv in sim.commands}
    assert keys == {sim.run_key}
    assert sim.commands[-1][1:3] == ["finish-run", run.path_components[0]]


def test_a_parameter_given_at_submission_takes_the_other_case(tmp_path: Path) -> None:
    _, run = _deploy_and_run(SHAPES / "switch_flow.py", tmp_path, mode="slow")
    for name, value in _expected(SHAPES / "switch_flow.py", "EXPECTED_SLOW").items():
        assert getattr(run.data, name) == value


@pytest.mark.parametrize(
    ("parameters", "path"),
    [({"inner": "y"}, "y"), ({"inner": "x"}, "x"), ({"route": "done"}, None)],
)
def test_a_switch_inside_a_case_and_a_case_straight_to_the_meeting_step(
    tmp_path: Path, parameters: dict[str, str], path: str | None
) -> None:
    _, run = _deploy_and_run(HERE / "flows" / "argo_nested_switch_flow.py", tmp_path, **parameters)
    assert getattr(run["meet"].task.data, "path", None) == path


def test_each_split_of_a_foreach_loops_on_its_own(tmp_path: Path) -> None:
    sim, run = _deploy_and_run(HERE / "flows" / "argo_foreach_loop_flow.py", tmp_path)
    assert run.data.sizes == [8, 8]  # 1 -> 2 -> 4 -> 8 and 2 -> 4 -> 8
    grows = [argv for argv in sim.commands if argv[1:3] == ["task", "grow"]]
    assert len(grows) == 5
    assert sum("--split-index" in argv for argv in grows) == 2  # only each first iteration
