"""``Deployer``: deploy a flow and trigger its deployment from Python.

``Deployer("flow.py").local().create()`` is ``python flow.py deploy`` (in its
own process, as the Runner runs flows) and returns a :class:`DeployedFlow`;
``.trigger(**parameters)`` starts a run of the deployed version at once,
from its code package, and returns a :class:`TriggeredRun` whose ``.run`` is
the Client ``Run`` once it exists. Runs started by ``stepwell scheduler``
are the deployment's ``.runs()`` too. ``argo_workflows()`` targets Argo
Workflows (``stepwell.deploy.argo``); ``airflow()`` writes an Airflow DAG file
(``stepwell.deploy.airflow``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stepwell.exceptions import StepwellError


class Deployer:
    """Deploy ``flow_file``; ``env`` and ``cwd`` as for the Runner.

    Example:
        >>> deployed = Deployer("nightly.py").local().create()  # doctest: +SKIP
        >>> deployed.trigger(day="2026-12-05").run  # doctest: +SKIP
    """

    def __init__(
        self,
        flow_file: str | os.PathLike[str],
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        **top_level: Any,
    ) -> None:
        base = Path(cwd) if cwd is not None else Path.cwd()
        self.flow_file = (base / flow_file).resolve()
        if not self.flow_file.is_file():
            raise StepwellError(f"Deployer: flow file {str(flow_file)!r} does not exist.")
        self.env = {**os.environ, **(env or {})}
        self.cwd = str(base)
        self.top_level = top_level

    def local(self) -> LocalDeployer:
        """The local scheduler (``stepwell scheduler``) as the target."""
        return LocalDeployer(self)

    def argo_workflows(self, **options: Any) -> Any:
        """Argo Workflows as the target: ``.create(only_json=True)`` gives the documents.

        Returns an ``ArgoWorkflowsDeployer`` (``stepwell.deploy.argo``); ``options``
        are ``python flow.py argo-workflows create`` options, e.g. ``image=...``.
        """
        from stepwell.deploy.argo._deployer import ArgoWorkflowsDeployer

        return ArgoWorkflowsDeployer(self, **options)

    def airflow(self, **options: Any) -> Any:
        """Apache Airflow as the target: ``.create(file="dags/flow.py")`` writes the DAG file.

        Returns an ``AirflowDeployer`` (``stepwell.deploy.airflow``); ``options`` are
        ``python flow.py airflow create`` options, e.g. ``kubernetes=True, image=...``.
        """
        from stepwell.deploy.airflow._deployer import AirflowDeployer

        return AirflowDeployer(self, **options)


class LocalDeployer:
    """``create()`` deploys the flow to the local scheduler."""

    def __init__(self, deployer: Deployer) -> None:
        self._deployer = deployer

    def create(self, **kwargs: Any) -> DeployedFlow:
        """``python flow.py [--branch B] [--production] deploy``; the deployed flow."""
        d = self._deployer
        options = {**d.top_level, **kwargs}
        argv = [sys.executable, str(d.flow_file)]
        if options.get("branch"):
            argv += ["--branch", str(options["branch"])]
        if options.get("production"):
            argv.append("--production")
        done = subprocess.run([*argv, "deploy"], env=d.env, cwd=d.cwd, capture_output=True,
                              text=True, check=False)  # fmt: skip
        if done.returncode != 0:
            raise StepwellError(f"Deploying {d.flow_file.name} failed:\n{done.stderr.strip()}")
        name = done.stdout.split()[1]  # "Deployed NAME version N ..."
        return DeployedFlow(name, d.env)


class DeployedFlow:
    """A deployment: trigger it now, list its runs, delete it."""

    def __init__(self, name: str, env: Mapping[str, str]) -> None:
        self.name = name
        self._env = dict(env)

    def _settings(self) -> Any:
        from stepwell.config import load_settings

        return load_settings(env=self._env)

    @property
    def deployment(self) -> Any:
        """Its active version's record (``DeploymentRecord``)."""
        from stepwell.metadata import open_configured_metadata

        metadata = open_configured_metadata(self._settings())
        try:
            return metadata.get_deployment(self.name)
        finally:
            metadata.close()

    def trigger(self, **parameters: Any) -> TriggeredRun:
        """Start a run of the deployed version now, with these parameter values."""
        from stepwell.scheduler import trigger_now

        process, fire_key = trigger_now(self._settings(), self.name, parameters)
        return TriggeredRun(self, fire_key, process)

    def runs(self) -> list[Any]:
        """The Client ``Run`` objects this deployment started, newest first."""
        from stepwell.client import Flow, namespace

        flow = self.deployment.flow_name
        namespace(None)
        return list(Flow(flow).runs(f"deployment:{self.name}"))

    def delete(self) -> None:
        """Undeploy it (``stepwell undeploy NAME``)."""
        from stepwell.metadata import open_configured_metadata

        metadata = open_configured_metadata(self._settings())
        try:
            metadata.undeploy(self.name)
        finally:
            metadata.close()


class TriggeredRun:
    """A run ``DeployedFlow.trigger()`` started: ``.run`` once it exists, ``.wait()``."""

    def __init__(self, deployed: DeployedFlow, fire_key: str, process: Any) -> None:
        self.deployed = deployed
        self.fire_key = fire_key
        self._process = process

    def wait(self, timeout: float | None = None) -> TriggeredRun:
        """Wait for the run's process to end."""
        self._process.wait(timeout=timeout)
        return self

    @property
    def run(self) -> Any:
        """The Client ``Run``, or None while the run has not been created yet."""
        from stepwell.client import Run
        from stepwell.metadata import open_configured_metadata

        metadata = open_configured_metadata(self.deployed._settings())
        try:
            fires = metadata.list_fires(self.deployed.name, prefix=self.fire_key, limit=5)
        finally:
            metadata.close()
        run_id = next((f.run_id for f in fires if f.fire_key == self.fire_key), None)
        if run_id is None or run_id.startswith("pending:"):
            return None
        flow = self.deployed.deployment.flow_name
        return Run(f"{flow}/{run_id}", _namespace_check=False)

    def wait_for_run(self, timeout: float = 60.0) -> Any:
        """The Client ``Run``, waiting up to ``timeout`` seconds for it to exist."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.run
            if found is not None:
                return found
            time.sleep(0.1)
        raise StepwellError(f"The run of {self.fire_key} did not start in {timeout:g} s.")
