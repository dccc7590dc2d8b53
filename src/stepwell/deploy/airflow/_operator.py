"""Decorators -> operator arguments: retries, their delay, timeouts, env, pods.

Each function returns ``(keyword, Python source)`` pairs that the renderer
writes into a task's decorator call, e.g. ``("retries", "2")``. The one-task
command handles @catch, @secrets, @card and @pypi itself; the orchestrator
only retries a failed attempt (``retries`` = @retry's ``times``) and stops one
that runs too long (``execution_timeout`` = @timeout, per attempt).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stepwell.decorators._step_level import resource_number
from stepwell.deploy.airflow._pysrc import lit
from stepwell.graph import StepNode

Kwargs = list[tuple[str, str]]

#: Where the Kubernetes pod writes its result: Airflow's XCom sidecar reads return.json there.
XCOM_DIR = "/airflow/xcom"


@dataclass(frozen=True)
class AirflowOptions:
    """How ``airflow create`` runs the tasks.

    ``kubernetes``: every task as a pod (``@task.kubernetes_cmd``) of ``image`` in
    ``namespace``; else each task is a local process of the Airflow worker
    (``@task.bash``), which must have ``executable`` on its PATH. ``top_level``:
    options before ``task`` in every task's command (``--branch B``,
    ``--config-value NAME JSON``); ``tags``: the runs' tags.
    """

    kubernetes: bool = False
    image: str | None = None
    namespace: str = "default"
    executable: str = "stepwell"
    tags: tuple[str, ...] = ()
    max_workers: int | None = None
    paused: bool = False
    workflow_timeout: int | None = None
    top_level: tuple[str, ...] = ()


def retry_kwargs(node: StepNode) -> Kwargs:
    """@retry -> ``retries`` and ``retry_delay`` (Metaflow's 2 minutes when none is written)."""
    retry = node.decorator("retry")
    if retry is None or retry.times == 0:
        return []
    seconds = round(60 * retry.deployed_delay_minutes)
    return [("retries", str(retry.times)), ("retry_delay", f"timedelta(seconds={seconds})")]


def timeout_kwargs(node: StepNode) -> Kwargs:
    """@timeout -> ``execution_timeout`` of each attempt."""
    timeout = node.decorator("timeout")
    if timeout is None:
        return []
    return [("execution_timeout", f"timedelta(seconds={_number(timeout.total_seconds)})")]


def env_source(node: StepNode) -> str:
    """The task's environment: ``ENV`` (the stores), plus the step's @environment vars."""
    extra = node.decorator("environment")
    if extra is None or not extra.vars:
        return "ENV"
    pairs = ", ".join(f"{lit(k)}: {lit(v)}" for k, v in sorted(extra.vars.items()))
    return f"{{**ENV, {pairs}}}"


def bash_kwargs(node: StepNode) -> Kwargs:
    """A task run in a local process of the Airflow worker (``@task.bash``)."""
    return [
        ("env", env_source(node)),
        ("append_env", "True"),  # the worker's PATH, HOME, STEPWELL_HOME...
        ("skip_on_exit_code", "None"),  # every non-zero exit is a failed attempt
        ("output_processor", "result"),
    ]


def pod_kwargs(node: StepNode, options: AirflowOptions) -> Kwargs:
    """A task run as a Kubernetes pod (``@task.kubernetes_cmd``): image, namespace, resources."""
    k8s = node.decorator("kubernetes")
    image = getattr(k8s, "image", None)
    namespace = getattr(k8s, "namespace", None) or options.namespace
    kwargs = [
        ("name", lit(node.name.replace("_", "-").lower())),
        ("image", lit(image) if image else "IMAGE"),
        ("namespace", lit(namespace)),
        ("env_vars", env_source(node)),
        ("do_xcom_push", "True"),
        ("get_logs", "True"),
    ]
    resources = _resources(node)
    if resources:
        kwargs.append(("container_resources", resources))
    return kwargs


def _resources(node: StepNode) -> str | None:
    """@resources / @kubernetes cpu, memory (MB) and gpu as pod requests (the larger of the two)."""
    wanted: dict[str, float] = {}
    for name in ("resources", "kubernetes"):
        deco = node.decorator(name)
        if deco is None:
            continue
        for attr in ("cpu", "memory", "gpu"):
            value = resource_number(getattr(deco, attr, None))
            if value is not None:
                wanted[attr] = max(wanted.get(attr, 0.0), value)
    if not wanted:
        return None
    memory = _number(wanted.get("memory", 4096))
    requests = {"cpu": _number(wanted.get("cpu", 1)), "memory": f"{memory}Mi"}
    limits: dict[str, Any] = {}
    if wanted.get("gpu"):
        vendor = getattr(node.decorator("kubernetes"), "gpu_vendor", None) or "nvidia"
        limits[f"{vendor}.com/gpu"] = _number(wanted["gpu"])
    text = f"k8s.V1ResourceRequirements(requests={_quoted(requests)}"
    return text + (f", limits={_quoted(limits)})" if limits else ")")


def _quoted(values: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{lit(k)}: {lit(str(v))}" for k, v in values.items()) + "}"


def _number(value: float) -> str:
    """``2.0`` -> ``2``, ``0.5`` -> ``0.5``."""
    return str(int(value)) if float(value).is_integer() else str(value)
