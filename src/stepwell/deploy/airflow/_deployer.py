"""``Deployer(...).airflow().create(file=...)``: the Airflow target of the Deployer.

``create(file, **options)`` runs ``python flow.py airflow create FILE`` in its
own process (as the Runner runs flows), each keyword as the option of that
name (``kubernetes=True`` -> ``--kubernetes``, ``tags=["a"]`` -> ``--tag a``),
and returns an :class:`AirflowDeployedFlow`: the DAG's id and file. Airflow
runs it once the file is in its dags folder; there is no trigger from here
(that is Airflow's API or ``airflow dags trigger``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from stepwell.exceptions import StepwellError

_RENAMED = {"tags": "tag", "paused": "is_paused_upon_creation"}


class AirflowDeployer:
    """``create(file=...)`` writes the flow's Airflow DAG file."""

    def __init__(self, deployer: Any, **options: Any) -> None:
        self._deployer = deployer
        self._options = options

    def create(self, file: str | os.PathLike[str], **kwargs: Any) -> AirflowDeployedFlow:
        """``python flow.py [--branch B] [--production] airflow create FILE [OPTIONS]``."""
        d = self._deployer
        target = Path(d.cwd, file).resolve()
        argv = [sys.executable, str(d.flow_file)]
        if d.top_level.get("branch"):
            argv += ["--branch", str(d.top_level["branch"])]
        if d.top_level.get("production"):
            argv.append("--production")
        with tempfile.TemporaryDirectory() as folder:
            attributes = Path(folder) / "deployed.json"
            argv += ["airflow", "create", str(target), "--deployer-attribute-file", str(attributes)]
            argv += _cli_options({**self._options, **kwargs})
            done = subprocess.run(argv, env=d.env, cwd=d.cwd, capture_output=True, text=True,
                                  check=False)  # fmt: skip
            if done.returncode != 0 or not attributes.is_file():
                raise StepwellError(
                    f"Writing the Airflow DAG of {d.flow_file.name} failed:\n{done.stderr.strip()}"
                )
            data = json.loads(attributes.read_text())
        return AirflowDeployedFlow(data)


def _cli_options(options: dict[str, Any]) -> list[str]:
    argv: list[str] = []
    for key, value in options.items():
        flag = "--" + _RENAMED.get(key, key).replace("_", "-")
        if value is True:
            argv.append(flag)
        elif isinstance(value, (list, tuple)):
            argv += [a for item in value for a in (flag, str(item))]
        elif value not in (None, False):
            argv += [flag, str(value)]
    return argv


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
