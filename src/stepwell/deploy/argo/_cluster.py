"""The thin layer that talks to a Kubernetes cluster: apply, submit, list, delete.

Imported only by the commands that need a cluster (``create`` without
``--only-json``, ``trigger``, ``list-runs``, ``delete``); the ``kubernetes``
package is imported late, so compiling needs none of it. Without a
kubeconfig (``KUBECONFIG``, ``~/.kube/config``, or a pod's service account)
every command stops with one message saying so, before anything is written.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from stepwell.exceptions import ConfigError

GROUP, VERSION = "argoproj.io", "v1alpha1"
PLURALS = {"WorkflowTemplate": "workflowtemplates", "CronWorkflow": "cronworkflows",
           "Sensor": "sensors", "Workflow": "workflows"}  # fmt: skip
_SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")


class ClusterUnavailable(ConfigError):
    """No Kubernetes cluster to talk to (no kubeconfig, or the cluster did not answer)."""

    headline = "Kubernetes cluster unavailable"


def has_kubeconfig(env: Mapping[str, str] | None = None) -> bool:
    """A kubeconfig file exists (``KUBECONFIG`` or ``~/.kube/config``), or we run in a pod."""
    env = os.environ if env is None else env
    listed = [p for p in env.get("KUBECONFIG", "").split(os.pathsep) if p]
    if listed:
        return any(Path(p).expanduser().is_file() for p in listed)
    if (Path(env.get("HOME") or Path.home()) / ".kube" / "config").is_file():
        return True
    return bool(env.get("KUBERNETES_SERVICE_HOST")) and _SERVICE_ACCOUNT.is_file()


class Cluster:
    """Argo's resources in one namespace of the kubeconfig's cluster."""

    def __init__(self, command: str, namespace: str | None = None) -> None:
        self.command = command
        if not has_kubeconfig():
            raise ClusterUnavailable(
                f"argo-workflows {command} needs a Kubernetes cluster: no kubeconfig found "
                "(KUBECONFIG or ~/.kube/config). Use `argo-workflows create --only-json` to get "
                "the manifests."
            )
        self.api, default_namespace = _connect(command)
        self.namespace = namespace or default_namespace

    def apply(self, documents: Iterable[dict[str, Any]], name: str) -> list[str]:
        """Create or replace each document; delete this deployment's documents of other kinds."""
        applied = []
        for document in documents:
            self._call(self._apply_one, document)
            applied.append(document["kind"])
        for kind in ("CronWorkflow", "Sensor"):
            if kind not in applied:
                self._delete(kind, name)
        return applied

    def submit(self, name: str, parameters: Mapping[str, str]) -> str:
        """Start a Workflow of template ``name``; its name."""
        workflow = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "Workflow",
            "metadata": {"generateName": f"{name}-", "labels": {"stepwell.dev/deployment": name}},
            "spec": {
                "workflowTemplateRef": {"name": name},
                "arguments": {
                    "parameters": [{"name": k, "value": v} for k, v in parameters.items()]
                },
            },
        }
        created = self._call(self._create, workflow)
        return str(created["metadata"]["name"])

    def list_runs(self, name: str) -> list[dict[str, Any]]:
        """The workflows of deployment ``name``: name, phase, start and end, newest first."""
        found = self._call(
            self.api.list_namespaced_custom_object, GROUP, VERSION, self.namespace,
            "workflows", label_selector=f"stepwell.dev/deployment={name}",
        )  # fmt: skip
        runs = []
        for workflow in found.get("items", []):
            status = workflow.get("status") or {}
            runs.append({
                "name": workflow["metadata"]["name"],
                "phase": status.get("phase") or "Pending",
                "started": status.get("startedAt") or "",
                "finished": status.get("finishedAt") or "",
            })  # fmt: skip
        return sorted(runs, key=lambda r: r["started"], reverse=True)

    def delete(self, name: str) -> list[str]:
        """Delete the deployment's documents; the kinds that were there."""
        return [k for k in ("Sensor", "CronWorkflow", "WorkflowTemplate") if self._delete(k, name)]

    def _apply_one(self, document: dict[str, Any]) -> None:
        try:
            self._create(document)
        except Exception as exc:
            if getattr(exc, "status", None) != 409:
                raise
            plural, name = PLURALS[document["kind"]], document["metadata"]["name"]
            current = self.api.get_namespaced_custom_object(
                GROUP, VERSION, self.namespace, plural, name
            )
            body = {**document, "metadata": {**document["metadata"],
                    "resourceVersion": current["metadata"]["resourceVersion"]}}  # fmt: skip
            self.api.replace_namespaced_custom_object(
                GROUP, VERSION, self.namespace, plural, name, body
            )

    def _create(self, document: dict[str, Any]) -> Any:
        plural = PLURALS[document["kind"]]
        return self.api.create_namespaced_custom_object(
            GROUP, VERSION, self.namespace, plural, document
        )

    def _delete(self, kind: str, name: str) -> bool:
        try:
            self._call(
                self.api.delete_namespaced_custom_object,
                GROUP, VERSION, self.namespace, PLURALS[kind], name,
            )  # fmt: skip
        except ClusterUnavailable as exc:
            if exc.fields.get("status") == 404:
                return False
            raise
        return True

    def _call(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        """``func(...)``; a refused or failed request as one message."""
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            status = getattr(exc, "status", None)
            reason = getattr(exc, "reason", None) or str(exc).splitlines()[0]
            what = f"the cluster answered {status} ({reason})"
            if not status:
                what = f"the cluster cannot be reached ({reason})"
            raise ClusterUnavailable(
                f"argo-workflows {self.command}: {what}, namespace {self.namespace!r}. Check "
                "the kubeconfig's cluster, that Argo Workflows (and Argo Events, for a Sensor) "
                "is installed there, and that its user may manage their resources.",
                status=status,
            ) from None


def _connect(command: str) -> tuple[Any, str]:
    """The CustomObjectsApi of the kubeconfig's cluster and its current namespace."""
    try:
        from kubernetes import client, config
    except ImportError:
        raise ConfigError(
            f"argo-workflows {command} needs the 'kubernetes' package. Install it with: "
            "pip install 'stepwell[argo]'"
        ) from None
    try:
        if has_kubeconfig({**os.environ, "KUBERNETES_SERVICE_HOST": ""}):
            config.load_kube_config()
            _, context = config.list_kube_config_contexts()
            namespace = (context or {}).get("context", {}).get("namespace") or "default"
        else:
            config.load_incluster_config()
            namespace = _in_cluster_namespace()
    except Exception as exc:
        raise ClusterUnavailable(
            f"argo-workflows {command}: the kubeconfig cannot be used: {exc}"
        ) from None
    return client.CustomObjectsApi(), namespace


def _in_cluster_namespace() -> str:
    path = _SERVICE_ACCOUNT.with_name("namespace")
    return path.read_text().strip() if path.is_file() else "default"
