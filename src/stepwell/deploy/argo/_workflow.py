"""``compile_argo``: a flow's graph and deployment plan -> its Argo Workflows documents.

A pure function: no file, no cluster, no clock. The documents are a
WorkflowTemplate (always), a CronWorkflow (``@schedule``) and a Sensor
(``@trigger`` / ``@trigger_on_finish``), all named after the deployment
(:func:`._names.resource_name`), in that order.

The WorkflowTemplate's ``main`` DAG runs the flow (see ``._dag``); its
parameters are the flow's, with the flow's defaults; its exit handler
(``spec.onExit``) runs ``stepwell finish-run`` with ``{{workflow.status}}``,
so a run whose workflow failed or was stopped is recorded as failed, and,
when an events webhook is given, publishes the flow's finished event on
success (an Argo ``http`` template) for ``@trigger_on_finish`` flows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stepwell.deploy._command import finish_run_command
from stepwell.deploy.argo import _events
from stepwell.deploy.argo._containers import RUN_ID_OUTPUT, RUN_KEY, TaskSetup, container_template
from stepwell.deploy.argo._dag import dag_templates
from stepwell.deploy.argo._names import check_unique, label_value, resource_name, step_name
from stepwell.deploy.argo._pod import image_pull_secrets
from stepwell.graph import FlowGraph

#: The default image: it must hold stepwell and every package the flow imports.
DEFAULT_IMAGE = "python:3.11"


@dataclass(frozen=True)
class ArgoOptions:
    """What a deployment to Argo Workflows needs beyond the flow.

    ``parameters`` maps each workflow parameter to its default text (None: it
    must be given when the workflow is submitted); ``top_level``: options the
    one-task command takes before ``task`` (``--branch B``, ``--config-value N V``).
    """

    flow_file: str = "flow.py"
    package: str | None = None
    image: str = DEFAULT_IMAGE
    namespace: str | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    parameters: Mapping[str, str | None] = field(default_factory=dict)
    top_level: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    service_account: str | None = None
    sensor_service_account: str | None = None
    max_workers: int | None = None
    workflow_timeout: int | None = None
    event_source: str = _events.EVENT_SOURCE
    events_webhook_url: str | None = None
    executable: str = "stepwell"


def compile_argo(graph: FlowGraph, plan: Any, options: ArgoOptions) -> list[dict[str, Any]]:
    """The documents deploying ``graph`` as ``plan`` (a ``DeploymentPlan``) describes it."""
    name = resource_name(plan.name)
    documents = [workflow_template(graph, plan, options)]
    if plan.spec.get("schedule"):
        documents.append(
            _events.cron_workflow(name, plan.spec["schedule"], _metadata(plan, options))
        )
    if plan.spec.get("events") or plan.spec.get("after_flows"):
        documents.append(
            _events.sensor(
                name,
                plan.spec,
                _metadata(plan, options),
                options.parameters,
                event_source=options.event_source,
                service_account=options.sensor_service_account,
            )
        )
    return documents


def workflow_template(graph: FlowGraph, plan: Any, options: ArgoOptions) -> dict[str, Any]:
    setup = TaskSetup(
        flow_file=options.flow_file,
        image=options.image,
        package=options.package,
        environment=options.environment,
        top_level=options.top_level,
        parameters=tuple(options.parameters),
        tags=options.tags,
        executable=options.executable,
        trigger_events=tuple(
            f"{{{{workflow.parameters.{n}}}}}" for n in _events.trigger_parameters(plan.spec)
        ),
    )
    dags, containers = dag_templates(graph)
    steps = [container_template(graph, s, i, n, setup) for n, (s, i) in containers.items()]
    templates = [*dags, *steps, *_exit_handler(plan, options)]
    check_unique(((t["name"], _describe(t)) for t in templates), "the WorkflowTemplate")
    spec: dict[str, Any] = {"entrypoint": "main", "onExit": "exit-handler"}
    started_by = {n: "" for n in _events.trigger_parameters(plan.spec)}
    if options.parameters or started_by:
        spec["arguments"] = {"parameters": _arguments({**options.parameters, **started_by})}
    spec["workflowMetadata"] = {"labels": _labels(plan)}
    spec.update(_workflow_settings(graph, options))
    spec["templates"] = templates
    metadata = _metadata(plan, options)
    metadata["annotations"] = _annotations(graph, plan, options)
    return {
        "apiVersion": _events.API_VERSION,
        "kind": "WorkflowTemplate",
        "metadata": metadata,
        "spec": spec,
    }


def _arguments(parameters: Mapping[str, str | None]) -> list[dict[str, str]]:
    return [{"name": n, **({"value": v} if v is not None else {})} for n, v in parameters.items()]


def _workflow_settings(graph: FlowGraph, options: ArgoOptions) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if options.max_workers:
        settings["parallelism"] = options.max_workers
    if options.workflow_timeout:
        settings["activeDeadlineSeconds"] = options.workflow_timeout
    if options.service_account:
        settings["serviceAccountName"] = options.service_account
    secrets = image_pull_secrets(list(graph))
    if secrets:
        settings["imagePullSecrets"] = secrets
    return settings


def _describe(template: Mapping[str, Any]) -> str:
    kind = next(k for k in ("dag", "container", "steps", "http") if k in template)
    return f"a {kind} template"


def _labels(plan: Any) -> dict[str, str]:
    return {
        "app.kubernetes.io/managed-by": "stepwell",
        "stepwell.dev/deployment": resource_name(plan.name),
        "stepwell.dev/flow": label_value(plan.flow_name),
    }


def _metadata(plan: Any, options: ArgoOptions) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": resource_name(plan.name)}
    if options.namespace:
        metadata["namespace"] = options.namespace
    metadata["labels"] = _labels(plan)
    return metadata


def _annotations(graph: FlowGraph, plan: Any, options: ArgoOptions) -> dict[str, str]:
    steps = {step_name(n.name): n.name for n in graph}
    found = {
        "stepwell.dev/flow-name": plan.flow_name,
        "stepwell.dev/deployment": plan.name,
        "stepwell.dev/steps": json.dumps(steps, sort_keys=True),
    }
    if options.package:
        found["stepwell.dev/code-package"] = options.package
    return found


def _exit_handler(plan: Any, options: ArgoOptions) -> list[dict[str, Any]]:
    """``exit-handler``: finish the run as the workflow ended; announce a success."""
    command = finish_run_command(
        plan.flow_name, run_key=RUN_KEY, status="{{workflow.status}}", executable=options.executable
    )
    container: dict[str, Any] = {
        "name": "main",
        "image": options.image,
        "command": command,
        "resources": {"requests": {"cpu": "250m", "memory": "512M"}},
    }
    if options.environment:
        container["env"] = [{"name": k, "value": v} for k, v in options.environment.items()]
    finish = {"name": "finish-run", "container": container}
    steps = [[{"name": "finish-run", "template": "finish-run"}]]
    templates: list[dict[str, Any]] = [finish]
    if options.events_webhook_url:
        when = "'{{workflow.status}}' == 'Succeeded'"
        steps.append([{"name": "publish-finished", "template": "publish-finished", "when": when}])
        templates.append(_publish(plan, options.events_webhook_url))
    return [{"name": "exit-handler", "steps": steps}, *templates]


def _publish(plan: Any, url: str) -> dict[str, Any]:
    """An Argo ``http`` template POSTing the finished event to the events webhook."""
    run_id = f"{{{{workflow.outputs.parameters.{RUN_ID_OUTPUT}}}}}"
    body = {
        "name": _events.finished_event(plan.name),
        "payload": {
            "flow_name": plan.flow_name,
            "deployment": plan.name,
            "run_key": RUN_KEY,
            "run_id": run_id,
            "pathspec": f"{plan.flow_name}/{run_id}",
            "status": "{{workflow.status}}",
        },
    }
    headers = [{"name": "Content-Type", "value": "application/json"}]
    http = {"url": url, "method": "POST", "headers": headers, "body": json.dumps(body)}
    return {"name": "publish-finished", "http": http}
