"""``Deployer(...).airflow().create(file=...)``: the DAG file from Python (no Airflow needed)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from stepwell import Deployer
from stepwell.exceptions import StepwellError

SHAPES = Path(__file__).parent / "flows" / "airflow_shapes.py"


def test_the_deployer_writes_the_dag_file_with_the_options_given(tmp_path: Path) -> None:
    deployed = (
        Deployer(SHAPES)
        .airflow(max_workers=2)
        .create(file=tmp_path / "dags" / "shapes.py", tags=["nightly", "team:ml"])
    )
    assert (deployed.name, deployed.flow_name) == ("AirflowShapesFlow", "AirflowShapesFlow")
    assert deployed.path == tmp_path / "dags" / "shapes.py" and deployed.path.is_file()
    assert len(deployed.package) == 64
    source = deployed.source
    ast.parse(source)
    assert "    max_active_tasks=2," in source
    start = next(line for line in source.splitlines() if 'stepwell_task("start"' in line)
    assert '"--tag", "nightly", "--tag", "team:ml"' in start


def test_the_deployer_says_what_went_wrong(tmp_path: Path) -> None:
    with pytest.raises(StepwellError, match="--image"):
        Deployer(SHAPES).airflow(kubernetes=True).create(file=tmp_path / "dag.py")
    assert not (tmp_path / "dag.py").exists()
