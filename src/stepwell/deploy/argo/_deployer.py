"""``Deployer(...).argo_workflows().create()``: the Argo Workflows target of the Deployer.

``create(**options)`` runs ``python flow.py argo-workflows create`` in its own
process (as the Runner runs flows), each keyword as the option of that name
(``only_json=True`` -> ``--only-json``, ``tags=["a"]`` -> ``--tag a``), and
returns an :class:`ArgoWorkflowsDeployedFlow` holding the documents. Without
``only_json`` the documents are applied to the kubeconfig's cluster;
``trigger()``, ``list_runs()`` and ``delete()`` always need that cluster.
"""

from __future__ import annotations

import json
from typing import Any

_RENAMED = {"namespace": "namespace", "k8s_namespace": "namespace", "tags": "tag"}


class ArgoWorkflowsDeployer:
    """``create()`` compiles the flow to Argo Workflows and deploys it (or only prints it)."""

    def __init__(self, deployer: Any, **options: Any) -> None:
        self._deployer = deployer
        self._options = options

    def create(self, **kwargs: Any) -> ArgoWorkflowsDeployedFlow:
        """``python flow.py [--branch B] [--production] argo-workflows create [OPTIONS]``."""
        from stepwell.deploy._deployer import run_create

        d = self._deployer
        options = {**self._options, **kwargs}
        data, output = run_create(
            d, ["argo-workflows", "create"], options, _RENAMED,
            failed=f"Deploying {d.flow_file.name} to Argo Workflows failed",
        )  # fmt: skip
        return ArgoWorkflowsDeployedFlow(data, options.get("namespace"), output)


class ArgoWorkflowsDeployedFlow:
    """A flow deployed to Argo Workflows: its name and documents; trigger, list, delete runs."""

    def __init__(self, data: dict[str, Any], namespace: str | None, output: str = "") -> None:
        self.name: str = data["name"]
        self.deployment: str = data["deployment"]
        self.flow_name: str = data["flow_name"]
        self.namespace: str | None = data.get("namespace") or namespace
        self.documents: list[dict[str, Any]] = data["documents"]
        self.output = output

    def _cluster(self, command: str) -> Any:
        from stepwell.deploy.argo._cluster import Cluster

        return Cluster(command, self.namespace)

    def trigger(self, **parameters: Any) -> ArgoWorkflowsTriggeredRun:
        """Start a workflow with these parameter values (needs the cluster)."""
        cluster = self._cluster("trigger")
        values = {k: v if isinstance(v, str) else json.dumps(v) for k, v in parameters.items()}
        return ArgoWorkflowsTriggeredRun(cluster, cluster.submit(self.name, values))

    def list_runs(self) -> list[dict[str, Any]]:
        """The deployment's workflows, newest first (needs the cluster)."""
        return list(self._cluster("list-runs").list_runs(self.name))

    def delete(self) -> list[str]:
        """Delete the deployment from the cluster; the kinds deleted."""
        return list(self._cluster("delete").delete(self.name))


class ArgoWorkflowsTriggeredRun:
    """A workflow ``trigger()`` started: its ``name`` and current ``status`` (Argo's phase)."""

    def __init__(self, cluster: Any, name: str) -> None:
        self._cluster = cluster
        self.name = name

    @property
    def status(self) -> str:
        runs = {r["name"]: r for r in self._cluster.list_runs(self.name.rsplit("-", 1)[0])}
        return str(runs.get(self.name, {}).get("phase", "Pending"))
