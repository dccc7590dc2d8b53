"""``python flow.py deploy``: a flow's code package and its triggers, as a deployment.

The deployment's spec (a JSON object in the metadata store) says what runs —
the content-addressed code package in the datastore, the flow file inside it,
the parameters' defaults — and when: the ``@schedule`` (as a cron string and
a timezone), the ``@trigger`` events (with the payload fields mapped to
parameters) and the ``@trigger_on_finish`` upstream flows. Everything that
can be wrong in those decorators is reported here, at deploy time, with the
flow's file:line — not at 3 a.m. by the scheduler.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stepwell.exceptions import ConfigError

#: Fire keys sort by time or id: schedule slots as UTC ISO times, event ids zero-padded.
EVENT_ID_WIDTH = 12


@dataclass(frozen=True)
class DeploymentPlan:
    """What ``deploy`` records: the deployment's name, its flow and its spec."""

    name: str
    flow_name: str
    spec: dict[str, Any]


def deployment_name(flow_name: str, project: Any) -> str:
    """The flow's name, or ``project.branch.Flow`` for a @project flow (branches side by side)."""
    if project is None:
        return flow_name
    return f"{project.project_name}.{project.branch_name}.{flow_name}"


def plan_deployment(
    flow_cls: type,
    graph: Any,
    flow_decorators: list[Any],
    *,
    project: Any,
    code: Mapping[str, Any],
    parameters: Mapping[str, Any],
    known_flows: list[str],
) -> DeploymentPlan:
    """The deployment of ``flow_cls``; a ConfigError (with file:line) for what is wrong.

    ``code``: the package key, the datastore it is in, the script's name in it.
    ``known_flows``: the flows with runs or deployments (``@trigger_on_finish``
    must name one).
    """
    where = f"{graph.file}:{graph.line}" if graph.file else None
    by_name = {d.NAME: d for d in flow_decorators}
    names = {p.name for p in flow_cls._sw_parameters().values()}  # type: ignore[attr-defined]
    spec: dict[str, Any] = {
        **dict(code),
        "flow_name": flow_cls.__name__,
        "parameters": {k: _json_default(v) for k, v in parameters.items()},
        "schedule": _schedule(by_name.get("schedule"), where),
        "events": _events(by_name.get("trigger"), names, where),
        "after_flows": _after_flows(by_name.get("trigger_on_finish"), known_flows, project, where),
        "project": project.as_current() if project is not None else None,
    }
    return DeploymentPlan(deployment_name(flow_cls.__name__, project), flow_cls.__name__, spec)


def _json_default(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return None  # a default JSON cannot hold (a file, an object): the flow applies its own
    return value


def _schedule(decorator: Any, where: str | None) -> dict[str, str] | None:
    if decorator is None:
        return None
    from stepwell.scheduler._schedule import Schedule

    schedule = Schedule.from_decorator(decorator, location=where)
    return {"cron": schedule.cron, "timezone": schedule.timezone}


def _events(decorator: Any, parameters: set[str], where: str | None) -> list[dict[str, Any]]:
    """@trigger(event=...) / (events=[...]): each event's name and payload -> parameter map."""
    if decorator is None:
        return []
    written = [decorator.event] if decorator.event is not None else list(decorator.events)
    if not written:
        raise ConfigError("@trigger needs event='name' or events=[...].", location=where)
    return [_event(item, parameters, where) for item in written]


def _event(item: Any, parameters: set[str], where: str | None) -> dict[str, Any]:
    if isinstance(item, str):
        name, mapping = item, {}
    elif isinstance(item, dict) and isinstance(item.get("name"), str):
        name, given = item["name"], item.get("parameters") or {}
        mapping = {p: p for p in given} if isinstance(given, list) else dict(given)
    else:
        raise ConfigError(
            f"@trigger: {item!r} is not an event: give its name, or "
            "{'name': 'data_ready', 'parameters': {'param': 'payload_field'}}.",
            location=where,
        )
    unknown = sorted(set(mapping) - parameters)
    if unknown:
        valid = ", ".join(sorted(parameters)) or "none"
        raise ConfigError(
            f"@trigger(event={name!r}) maps the payload to parameter(s) "
            f"{', '.join(repr(u) for u in unknown)}, which the flow does not have "
            f"(its parameters: {valid}).",
            location=where,
        )
    if not name.strip():
        raise ConfigError("@trigger: an event name cannot be empty.", location=where)
    return {"name": name, "parameters": mapping}


def _after_flows(
    decorator: Any, known: list[str], project: Any, where: str | None
) -> list[dict[str, Any]]:
    """@trigger_on_finish(flow=...) / (flows=[...]): upstream flows, in this project/branch."""
    if decorator is None:
        return []
    written = [decorator.flow] if decorator.flow is not None else list(decorator.flows)
    if not written:
        raise ConfigError("@trigger_on_finish needs flow='Name' or flows=[...].", location=where)
    found = []
    for item in written:
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str) or not name:
            raise ConfigError(f"@trigger_on_finish: {item!r} is not a flow name.", location=where)
        flow = name.rsplit(".", 1)[-1]  # project.branch.Flow names the flow too
        if flow not in known:
            listed = ", ".join(sorted(known)) or "none yet"
            raise ConfigError(
                f"@trigger_on_finish(flow={name!r}): no flow named {flow!r} has run or is "
                f"deployed here (known flows: {listed}). Deploy or run it first, or check "
                "the name.",
                location=where,
            )
        branch = project.branch_name if project is not None else None
        found.append({"flow": flow, "branch": branch})
    return found
