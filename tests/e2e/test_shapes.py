"""Every flow shape runs under both local executors and leaves the expected artifacts."""

from __future__ import annotations

from pathlib import Path

import pytest

from stepwell.flow import import_flow_file
from stepwell.testing import run_flow

SHAPES = sorted((Path(__file__).parents[1] / "flows" / "shapes").glob("*_flow.py"))
EXECUTORS = ["fork", "subprocess"]


def _expected(flow_file: Path) -> dict[str, object]:
    return dict(import_flow_file(flow_file).EXPECTED)


@pytest.mark.parametrize("executor", EXECUTORS)
@pytest.mark.parametrize("flow_file", SHAPES, ids=lambda p: p.stem)
def test_shape_runs_and_records_expected_artifacts(
    flow_file: Path, executor: str, stepwell_home: Path
) -> None:
    run = run_flow(flow_file, "--executor", executor, home=stepwell_home)
    assert run.ok, run.stderr
    end_step = "end"
    graph_end = [t for t in run.tasks() if t.step_name == end_step] or [
        t for t in run.tasks() if not t.next_steps and t.status == "succeeded"
    ]
    assert len(graph_end) == 1
    data = run.artifacts(graph_end[0].step_name, graph_end[0].task_id)
    for name, value in _expected(flow_file).items():
        assert data.get(name) == value, f"{name}: {data.get(name)!r} != {value!r}"
    assert all(t.status == "succeeded" for t in run.tasks())
    assert run.metadata.get_run(run.flow_name, run.run_id).status == "succeeded"


def test_switch_takes_the_other_branch_with_a_parameter(stepwell_home: Path) -> None:
    flow_file = next(p for p in SHAPES if p.stem == "switch_flow")
    run = run_flow(flow_file, "--mode", "slow", home=stepwell_home)
    assert run.ok, run.stderr
    data = run.artifacts("end")
    for name, value in import_flow_file(flow_file).EXPECTED_SLOW.items():
        assert data[name] == value
