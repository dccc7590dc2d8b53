"""``Deployer(...).airflow().create(file=...)``: the Airflow target of the Deployer.

``create(file, **options)`` runs ``python flow.py airflow create FILE`` in its
own process (as the Runner runs flows), each keyword as the option of that
name (``kubernetes=True`` -> ``--kubernetes``, ``tags=["a"]`` -> ``--tag a``),
and returns an :class:`AirflowDeployedFlow`: the DAG's id and file. Airflow
runs it once the file is in its dags folder; there is no trigger from here
(that is Airflow's API or ``airflow dags trigger``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_RENAMED = {"tags": "tag", "paused": "is_paused_upon_creation"}


class AirflowDeployer:
    """``create(file=...)`` writes the flow's Airflow DAG file."""

    def __init__(self, deployer: Any, **options: Any) -> None:
        self._deployer = deployer
        self._options = options

    def create(self, file: str | os.PathLike[str], **kwargs: Any) -> AirflowDeployedFlow:
        """``python flow.py [--branch B] [--production] airflow create FILE [OPTIONS]``."""
        from stepwell.deploy._deployer import run_create

        d = self._deployer
        target = Path(d.cwd, file).resolve()
        data, _ = run_create(
            d, ["airflow", "create", str(target)], {**self._options, **kwargs}, _RENAMED,
            failed=f"Writing the Airflow DAG of {d.flow_file.name} failed",
        )  # fmt: skip
        return AirflowDeployedFlow(data)


class AirflowDeployedFlow:
    """A flow's Airflow DAG: its ``name`` (the DAG id), ``flow_name``, file and code package."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.name: str = data["name"]
        self.flow_name: str = data["flow_name"]
        self.path = Path(data["path"])
        self.package: str = data["package"]

    @property
    def source(self) -> str:
        """The DAG file's text."""
        return self.path.read_text()

    def __repr__(self) -> str:
        return f"AirflowDeployedFlow({self.name!r}, path={str(self.path)!r})"
