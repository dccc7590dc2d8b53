"""@resources and @kubernetes -> what a step's pod asks Kubernetes for, and where it runs.

As on Metaflow's Kubernetes: a deployed step asks for what its @kubernetes
says, or @kubernetes' defaults (1 CPU, 4096 MB memory, 10240 MB disk), and
@resources raises an amount to its own where that is larger. Amounts
in MB become ``M`` quantities (``4096M``); GPUs are a limit on
``nvidia.com/gpu`` (``amd.com/gpu`` with ``gpu_vendor="amd"``). With
``qos="guaranteed"`` the CPU, memory and disk limits equal the requests;
otherwise (Burstable, the default) only GPUs are limited.

Also read from @kubernetes: ``image``, ``image_pull_policy``,
``service_account``, ``secrets`` (``envFrom``), ``node_selector``,
``tolerations``, ``labels``, ``annotations``, ``persistent_volume_claims``,
``shared_memory`` (a memory-backed ``/dev/shm``), ``security_context``,
``extended_resources``. Its ``namespace`` is the workflow's (``--namespace``);
``port``, ``compute_pool``, ``use_tmpfs``/``tmpfs_*``, ``executable`` and
``hostname_resolution_timeout`` are not compiled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stepwell.decorators._step_level import resource_number
from stepwell.exceptions import ConfigError
from stepwell.graph import StepNode

DEFAULTS = {"cpu": 1.0, "memory": 4096.0, "disk": 10240.0}


def _quantity(value: float, unit: str = "") -> str:
    text = str(int(value)) if float(value).is_integer() else f"{value:g}"
    return text + unit


def amounts(node: StepNode) -> dict[str, float]:
    """cpu, memory (MB), disk (MB) and gpu: @kubernetes' (or its defaults), raised by @resources."""
    k8s, res = node.decorator("kubernetes"), node.decorator("resources")
    found = dict(DEFAULTS, gpu=0.0)
    for attr in found:
        given = resource_number(getattr(k8s, attr, None)) if k8s is not None else None
        if given is not None:
            found[attr] = given
        floor = resource_number(getattr(res, attr, None)) if res is not None else None
        if floor is not None:
            found[attr] = max(found[attr], floor)
    return found


def resources(node: StepNode) -> dict[str, Any]:
    """The container's ``resources``: requests and limits."""
    wanted = amounts(node)
    requests = {
        "cpu": _quantity(wanted["cpu"]),
        "memory": _quantity(wanted["memory"], "M"),
        "ephemeral-storage": _quantity(wanted["disk"], "M"),
    }
    k8s = node.decorator("kubernetes")
    limits: dict[str, str] = {}
    if str(getattr(k8s, "qos", "burstable")).lower() == "guaranteed":
        limits.update(requests)
    if wanted["gpu"]:
        vendor = str(getattr(k8s, "gpu_vendor", None) or "nvidia").lower()
        limits[f"{vendor}.com/gpu"] = _quantity(wanted["gpu"])
    for name, amount in _mapping(node, "extended_resources").items():
        requests[str(name)] = limits[str(name)] = str(amount)
    return {"requests": requests, "limits": limits} if limits else {"requests": requests}


def image_of(node: StepNode, default: str) -> str:
    k8s = node.decorator("kubernetes")
    return str(getattr(k8s, "image", None) or default)


def secret_names(node: StepNode) -> list[str]:
    """``@kubernetes(secrets=...)``: a name, a comma-separated string or a list."""
    value = getattr(node.decorator("kubernetes"), "secrets", None)
    if not value:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(item).strip() for item in items if str(item).strip()]


def pod_fields(node: StepNode) -> dict[str, Any]:
    """Template-level pod settings: nodeSelector, tolerations, metadata, serviceAccountName."""
    k8s: Any = node.decorator("kubernetes")
    fields: dict[str, Any] = {}
    selector = node_selector(node)
    if selector:
        fields["nodeSelector"] = selector
    if getattr(k8s, "tolerations", None):
        fields["tolerations"] = [dict(t) for t in k8s.tolerations]
    metadata = {k: _mapping(node, k) for k in ("labels", "annotations") if _mapping(node, k)}
    if metadata:
        fields["metadata"] = {
            k: {str(n): str(v) for n, v in m.items()} for k, m in metadata.items()
        }
    if getattr(k8s, "service_account", None):
        fields["serviceAccountName"] = str(k8s.service_account)
    return fields


def node_selector(node: StepNode) -> dict[str, str]:
    """``{"k": "v"}``, ``"k=v,k2=v2"`` or ``["k=v", ...]`` as a nodeSelector."""
    value = getattr(node.decorator("kubernetes"), "node_selector", None)
    if not value:
        return {}
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    items = value.split(",") if isinstance(value, str) else list(value)
    selector = {}
    for item in items:
        key, sep, val = str(item).partition("=")
        if not sep or not key.strip():
            raise ConfigError(
                f"@kubernetes(node_selector={value!r}) on step '{node.name}': write each "
                "selector as key=value, e.g. node_selector='kubernetes.io/arch=amd64'.",
                location=f"{node.file}:{node.line}" if node.file else None,
            )
        selector[key.strip()] = val.strip()
    return selector


def volumes(node: StepNode) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Pod volumes and the container's mounts: persistent volume claims, shared memory."""
    found: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    for i, (claim, path) in enumerate(_mapping(node, "persistent_volume_claims").items()):
        found.append({"name": f"pvc-{i}", "persistentVolumeClaim": {"claimName": str(claim)}})
        mounts.append({"name": f"pvc-{i}", "mountPath": str(path)})
    shm = max(
        resource_number(getattr(node.decorator(name), "shared_memory", None)) or 0
        for name in ("kubernetes", "resources")
    )
    if shm:
        limit = _quantity(shm, "M")
        found.append({"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": limit}})
        mounts.append({"name": "dshm", "mountPath": "/dev/shm"})
    return found, mounts


def security_context(node: StepNode) -> dict[str, Any]:
    """``@kubernetes(security_context={"run_as_user": 1000})`` in Kubernetes' spelling."""
    given = _mapping(node, "security_context")
    return {_camel(str(k)): v for k, v in given.items()}


def image_pull_secrets(nodes: list[StepNode]) -> list[dict[str, str]]:
    """Every step's ``@kubernetes(image_pull_secrets=...)``, for the workflow's pods."""
    names: list[str] = []
    for node in nodes:
        value = getattr(node.decorator("kubernetes"), "image_pull_secrets", None) or []
        for name in [value] if isinstance(value, str) else value:
            if str(name) not in names:
                names.append(str(name))
    return [{"name": name} for name in names]


def _mapping(node: StepNode, attr: str) -> Mapping[str, Any]:
    value = getattr(node.decorator("kubernetes"), attr, None)
    return value if isinstance(value, Mapping) else {}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
