"""A step -> its container template: the one-task command, outputs, retries, timeout, env.

Every container runs ``stepwell task STEP`` (:func:`stepwell.deploy.task_command`)
from the code package, with the run key ``argo-{{workflow.uid}}`` that all
tasks of one workflow share. Its inputs come from the template's input
parameters (see ``._dag``); what it writes to ``/tmp/stepwell/out`` becomes
the template's output parameters.

- ``@retry(times=N, minutes_between_retries=M)``: ``retryStrategy`` with
  ``limit: N``, ``retryPolicy: Always`` and a backoff of M minutes (2 when not
  given, as Metaflow deploys it); the command gets ``--attempt {{retries}}``
  and runs only that attempt (``@catch`` applies on the last). Without
  @retry: ``--attempt 0``, the only attempt.
- ``@timeout``: the template's ``activeDeadlineSeconds`` (each attempt).
- ``@environment(vars=...)``: container ``env``, after the datastore settings.
- ``@secrets(sources=["kubernetes:NAME"])`` and ``@kubernetes(secrets=[...])``:
  ``envFrom`` the Kubernetes secret NAME. Other @secrets sources are
  resolved by the task itself, as in a local run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stepwell.deploy._command import task_command
from stepwell.deploy.argo import _pod
from stepwell.graph import FlowGraph, StepNode

OUTPUT_DIR = "/tmp/stepwell/out"
RUN_KEY = "argo-{{workflow.uid}}"
#: The workflow output that carries the run's id (the start task's), for the exit handler.
RUN_ID_OUTPUT = "stepwell-run-id"


@dataclass(frozen=True)
class TaskSetup:
    """What every container of a workflow shares.

    ``top_level``: options placed before ``task`` (``--branch B``, ``--config-value ...``);
    ``parameters``: the Argo parameters the start task passes on as ``--param``.
    """

    flow_file: str
    image: str
    package: str | None = None
    environment: Mapping[str, str] | None = None
    top_level: tuple[str, ...] = ()
    parameters: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    executable: str = "stepwell"
    trigger_events: tuple[str, ...] = ()  # what started the run: every task's current.trigger


def container_template(
    graph: FlowGraph, step: str, inputs: tuple[str, ...], name: str, setup: TaskSetup
) -> dict[str, Any]:
    """The container template ``name`` running ``step`` with these input parameters."""
    node = graph[step]
    retry = _retries(node)
    template: dict[str, Any] = {"name": name}
    if inputs:
        template["inputs"] = {"parameters": [{"name": n} for n in inputs]}
    template["outputs"] = {"parameters": _outputs(node)}
    template["container"] = _container(node, _command(node, inputs, setup, retry > 0), setup)
    if retry:
        template["retryStrategy"] = _retry_strategy(node, retry)
    timeout = node.decorator("timeout")
    if timeout is not None:
        template["activeDeadlineSeconds"] = math.ceil(timeout.total_seconds)
    template.update(_pod.pod_fields(node))
    pod_volumes, _ = _pod.volumes(node)
    if pod_volumes:
        template["volumes"] = pod_volumes
    return template


def _command(node: StepNode, inputs: tuple[str, ...], setup: TaskSetup, retried: bool) -> list[str]:
    given = {n: f"{{{{inputs.parameters.{n}}}}}" for n in inputs}
    start = node.is_start
    argv = task_command(
        node.name,
        flow_file=setup.flow_file,
        run_key=RUN_KEY,
        package=setup.package,
        inputs=[given[n] for n in inputs if n == "input" or n.startswith("input-")],
        inputs_of_split=given.get("inputs-of-split"),
        split_index=given.get("split-index"),
        attempt="{{retries}}" if retried else "0",
        parameters={p: f"{{{{workflow.parameters.{p}}}}}" for p in setup.parameters}
        if start
        else None,
        tags=setup.tags if start else (),
        runtime="argo-workflows" if start else None,
        output_dir=OUTPUT_DIR,
        trigger_events=setup.trigger_events,
        executable=setup.executable,
    )
    return [argv[0], *setup.top_level, *argv[1:]]


def _outputs(node: StepNode) -> list[dict[str, Any]]:
    names = ["pathspec"]
    if node.transition == "foreach":
        names.append("splits")
    if node.transition == "switch":
        names.append("chosen")
    outputs: list[dict[str, Any]] = [
        {"name": n, "valueFrom": {"path": f"{OUTPUT_DIR}/{n}"}} for n in names
    ]
    if node.is_start:
        path = f"{OUTPUT_DIR}/run_id"
        outputs.append({"name": "run_id", "valueFrom": {"path": path}, "globalName": RUN_ID_OUTPUT})
    return outputs


def _container(node: StepNode, command: list[str], setup: TaskSetup) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": "main",
        "image": _pod.image_of(node, setup.image),
        "command": command,
        "resources": _pod.resources(node),
    }
    env = _env(node, setup)
    if env:
        container["env"] = env
    secrets = [*_pod.secret_names(node), *_kubernetes_secrets(node)]
    if secrets:
        container["envFrom"] = [{"secretRef": {"name": s}} for s in dict.fromkeys(secrets)]
    k8s: Any = node.decorator("kubernetes")
    if getattr(k8s, "image_pull_policy", None):
        container["imagePullPolicy"] = str(k8s.image_pull_policy)
    _, mounts = _pod.volumes(node)
    if mounts:
        container["volumeMounts"] = mounts
    context = _pod.security_context(node)
    if context:
        container["securityContext"] = context
    return container


def _env(node: StepNode, setup: TaskSetup) -> list[dict[str, str]]:
    values = dict(setup.environment or {})
    deco = node.decorator("environment")
    if deco is not None:
        values.update({str(k): str(v) for k, v in deco.vars.items()})
    return [{"name": k, "value": v} for k, v in values.items()]


def _kubernetes_secrets(node: StepNode) -> list[str]:
    """@secrets sources that name a Kubernetes secret: ``kubernetes:NAME`` or a dict."""
    found = []
    for deco in node.decorators:
        if getattr(deco, "NAME", None) != "secrets":
            continue
        for source in deco.sources:
            if isinstance(source, str) and source.startswith("kubernetes:"):
                found.append(source.split(":", 1)[1])
            elif isinstance(source, Mapping) and source.get("type") == "kubernetes":
                found.append(str(source.get("name") or source.get("id")))
    return found


def _retries(node: StepNode) -> int:
    deco = node.decorator("retry")
    return int(deco.times) if deco is not None else 0


def _retry_strategy(node: StepNode, times: int) -> dict[str, Any]:
    strategy: dict[str, Any] = {"limit": times, "retryPolicy": "Always"}
    deco: Any = node.decorator("retry")
    seconds = 60 * deco.deployed_delay_minutes
    if seconds > 0:
        text = str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"
        strategy["backoff"] = {"duration": f"{text}s"}
    return strategy
