"""@schedule -> a CronWorkflow; @trigger / @trigger_on_finish -> an Argo Events Sensor.

Both start a Workflow from the flow's WorkflowTemplate (``workflowTemplateRef``).

Events reach a Sensor through an Argo Events EventSource (a webhook,
by default ``stepwell-events`` with the endpoint ``stepwell``): each event is
a JSON body ``{"name": "data_ready", "payload": {...}}``. A dependency of the
Sensor accepts the events whose ``body.name`` is the one it waits for;
``@trigger(event={"name": ..., "parameters": {"param": "field"}})`` copies
``body.payload.field`` into the workflow's parameter ``param``. With several
events (or upstream flows), the workflow starts once each has arrived, as
Argo Events does by default (and as ``stepwell scheduler`` does).

A flow's run publishes ``stepwell.finished.<deployment>`` (its payload: the
flow, run key, run id, status) from its exit handler when it succeeds and an
events webhook is configured; ``@trigger_on_finish(flow="Up")`` waits for
``stepwell.finished.Up`` (``stepwell.finished.<project>.<branch>.Up`` for a
@project flow: the upstream flow on the same branch).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from stepwell.exceptions import ConfigError

API_VERSION = "argoproj.io/v1alpha1"
#: What a CronWorkflow's run was started by: its slot (current.trigger.event).
_SLOT = json.dumps({"name": "schedule", "type": "schedule", "id": "{{workflow.scheduledTime}}"})
EVENT_SOURCE = "stepwell-events"
EVENT_NAME = "stepwell"


def trigger_parameters(spec: Mapping[str, Any]) -> list[str]:
    """The workflow parameters carrying what started a run (``current.trigger``): one per
    event the Sensor waits for (its body, as posted), the first also set by the CronWorkflow."""
    waited = len(spec.get("events") or []) + len(spec.get("after_flows") or [])
    count = max(waited, 1 if spec.get("schedule") else 0)
    return [f"stepwell-event-{i}" for i in range(count)]


def finished_event(deployment: str) -> str:
    """The event a run of ``deployment`` publishes when it succeeds."""
    return f"stepwell.finished.{deployment}"


def cron_workflow(
    name: str, schedule: Mapping[str, str], metadata: dict[str, Any]
) -> dict[str, Any]:
    """Runs the template at each slot of the cron, read in its timezone; never two at once."""
    return {
        "apiVersion": API_VERSION,
        "kind": "CronWorkflow",
        "metadata": metadata,
        "spec": {
            "schedules": [schedule["cron"]],
            "timezone": schedule["timezone"],
            "concurrencyPolicy": "Forbid",
            "workflowMetadata": {"labels": dict(metadata.get("labels", {}))},
            "workflowSpec": {
                "workflowTemplateRef": {"name": name},
                "arguments": {"parameters": [{"name": "stepwell-event-0", "value": _SLOT}]},
            },
        },
    }


def sensor(
    name: str,
    spec: Mapping[str, Any],
    metadata: dict[str, Any],
    defaults: Mapping[str, str | None],
    *,
    event_source: str = EVENT_SOURCE,
    service_account: str | None = None,
) -> dict[str, Any]:
    """Submits a Workflow of the template once every event the flow waits for has arrived.

    ``spec``: the deployment plan's spec (``events``, ``after_flows``, ``project``);
    ``defaults``: the workflow's parameters and their default values.
    """
    dependencies, mapped = [], []
    for i, event in enumerate(spec.get("events") or []):
        dependencies.append(_dependency(f"event-{i}", event["name"], event_source))
        mapped += [(f"event-{i}", p, f) for p, f in sorted(event["parameters"].items())]
    for i, after in enumerate(spec.get("after_flows") or []):
        upstream = finished_event(_upstream(after, spec.get("project")))
        dependencies.append(_dependency(f"finished-{i}", upstream, event_source))
    workflow, parameters = _workflow(name, metadata, mapped, defaults)
    _pass_bodies(workflow, parameters, [d["name"] for d in dependencies])
    trigger = {"name": "submit", "argoWorkflow": {"operation": "submit",
               "source": {"resource": workflow}, "parameters": parameters}}  # fmt: skip
    body: dict[str, Any] = {"dependencies": dependencies, "triggers": [{"template": trigger}]}
    if service_account:
        body["template"] = {"serviceAccountName": service_account}
    return {"apiVersion": API_VERSION, "kind": "Sensor", "metadata": metadata, "spec": body}


def _pass_bodies(
    workflow: dict[str, Any], parameters: list[dict[str, Any]], deps: list[str]
) -> None:
    """Each event's body into its ``stepwell-event-<i>`` parameter (``current.trigger``)."""
    arguments = workflow["spec"].setdefault("arguments", {}).setdefault("parameters", [])
    for i, dependency in enumerate(deps):
        arguments.append({"name": f"stepwell-event-{i}", "value": ""})
        dest = f"spec.arguments.parameters.{len(arguments) - 1}.value"
        parameters.append({"src": {"dependencyName": dependency, "dataKey": "body"}, "dest": dest})


def _dependency(name: str, event: str, source: str) -> dict[str, Any]:
    accept = {"path": "body.name", "type": "string", "value": [event]}
    return {
        "name": name,
        "eventSourceName": source,
        "eventName": EVENT_NAME,
        "filters": {"data": [accept]},
    }


def _upstream(after: Mapping[str, Any], project: Mapping[str, Any] | None) -> str:
    """The upstream flow's deployment name: on this flow's @project branch, if any."""
    if project is None:
        return str(after["flow"])
    return f"{project['project_name']}.{project['branch_name']}.{after['flow']}"


def _workflow(
    name: str,
    metadata: dict[str, Any],
    mapped: list[tuple[str, str, str]],
    defaults: Mapping[str, str | None],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The Workflow the Sensor submits, and the event fields copied into its parameters."""
    arguments: list[dict[str, str]] = []
    parameters = []
    for dependency, param, field in mapped:
        if param not in defaults:
            raise ConfigError(
                f"@trigger maps the event field {field!r} to parameter {param!r}, which has no "
                "default: on Argo Workflows a parameter set by an event needs a default. "
                f"Give Parameter({param!r}, default=...) a default."
            )
        default = defaults[param]
        names = [a["name"] for a in arguments]
        if param not in names:
            names.append(param)
            arguments.append({"name": param, **({"value": default} if default is not None else {})})
        source = {"dependencyName": dependency, "dataKey": f"body.payload.{field}"}
        if default is not None:
            source["value"] = default  # used when the event lacks the field
        dest = f"spec.arguments.parameters.{names.index(param)}.value"
        parameters.append({"src": source, "dest": dest})
    labels = dict(metadata.get("labels", {}))
    spec: dict[str, Any] = {"workflowTemplateRef": {"name": name}}
    if arguments:
        spec["arguments"] = {"parameters": arguments}
    workflow = {
        "apiVersion": API_VERSION,
        "kind": "Workflow",
        "metadata": {"generateName": f"{name}-", "labels": labels},
        "spec": spec,
    }
    return workflow, parameters
