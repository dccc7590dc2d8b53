"""The DAG's own arguments: its id, schedule, params, and the asset its end task updates.

- ``dag_id``: the deployment's name (``Flow``, or ``project.branch.Flow`` for a
  @project flow, so branches are DAGs side by side).
- ``@schedule`` -> ``CronTriggerTimetable(cron, timezone=...)``: a run at each
  slot, read on the timezone's wall clock (Airflow 3's trigger timetable: no
  data interval, as the local scheduler).
- ``@trigger_on_finish`` -> asset-driven scheduling: every DAG's end task
  declares the outlet ``Asset("stepwell://flows/<dag_id>")``, updated when a
  run succeeds; a downstream DAG schedules on its upstreams' assets (all of
  them, as Metaflow's trigger_on_finish with several flows). With @schedule
  too: ``AssetOrTimeSchedule``, either starts a run.
- Parameters -> DAG ``params`` with their deploy-time defaults (a callable
  default is evaluated when the DAG is created, as the local scheduler's
  deployments do), their JSON-schema type and help text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from stepwell.deploy.airflow._pysrc import lit
from stepwell.exceptions import ConfigError

_DAG_ID_BAD = re.compile(r"[^A-Za-z0-9_.-]")
_PARAM_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}


def dag_id_of(deployment_name: str) -> str:
    """An Airflow DAG id (letters, digits, ``_.-``) from a deployment's name."""
    return _DAG_ID_BAD.sub("_", deployment_name)


def asset_uri(dag_id: str) -> str:
    """The asset a DAG's end task updates when a run of the flow succeeds."""
    return f"stepwell://flows/{dag_id}"


def upstream_assets(spec: Mapping[str, Any]) -> list[str]:
    """The asset URIs of the @trigger_on_finish flows (in this flow's @project branch)."""
    project = spec.get("project")
    found = []
    for upstream in spec.get("after_flows", []):
        name = upstream["flow"]
        if project is not None:
            name = f"{project['project_name']}.{upstream['branch']}.{name}"
        found.append(asset_uri(dag_id_of(name)))
    return found


def schedule_source(spec: Mapping[str, Any], where: str | None) -> str:
    """The DAG's ``schedule=`` argument as Python source."""
    if spec.get("events"):
        raise ConfigError(
            "Cannot compile the flow to an Airflow DAG: @trigger waits for stepwell events, "
            "which Airflow does not receive. Use @schedule or @trigger_on_finish, or deploy "
            "the flow to the local scheduler with `python flow.py deploy`.",
            location=where,
        )
    cron = spec.get("schedule")
    timetable = None
    if cron:
        timetable = f"CronTriggerTimetable({lit(cron['cron'])}, timezone={lit(cron['timezone'])})"
    assets = [f"Asset({lit(uri)})" for uri in upstream_assets(spec)]
    if not assets:
        return timetable or "None"
    if timetable is None:
        return assets[0] if len(assets) == 1 else _call("AssetAll", assets, depth=1)
    all_of = assets[0] if len(assets) == 1 else _call("AssetAll", assets, depth=2)
    return _call("AssetOrTimeSchedule", [f"timetable={timetable}", f"assets={all_of}"], depth=1)


def _call(name: str, arguments: list[str], *, depth: int) -> str:
    """``name(arguments)`` one argument a line, for a call nested ``depth`` levels in the DAG(...)
    call, so that the generated file keeps to readable line lengths."""
    inner, outer = "    " * (depth + 1), "    " * depth
    return f"{name}(\n" + "".join(f"{inner}{a},\n" for a in arguments) + f"{outer})"


def params_source(parameters: Mapping[str, Any], spec: Mapping[str, Any], where: str | None) -> str:
    """``params=`` as Python source: one ``Param`` per flow parameter the run command takes.

    ``parameters``: the flow's Parameter objects by attribute; their deploy-time
    values are ``spec["parameters"]``. Configs and IncludeFiles are left to the
    start task (their values are read from files when the run starts). A
    scheduled flow cannot have a required parameter without a default.
    """
    defaults = spec.get("parameters", {})
    lines = []
    for attr, param in parameters.items():
        if getattr(param, "kind", "parameter") != "parameter":
            continue
        if param.required and defaults.get(attr) is None and _scheduled(spec):
            raise ConfigError(
                f"Cannot compile the flow to an Airflow DAG: parameter {param.name!r} is "
                "required and has no default, but the flow starts on its own (@schedule or "
                "@trigger_on_finish) and no one gives it a value. Give it a default.",
                location=where,
            )
        lines.append(f"        {lit(param.name)}: {_param(param, defaults.get(attr))},")
    if not lines:
        return "{}"
    return "{\n" + "\n".join(lines) + "\n    }"


def _scheduled(spec: Mapping[str, Any]) -> bool:
    return bool(spec.get("schedule") or spec.get("after_flows"))


def _param(param: Any, default: Any) -> str:
    """``Param(default, type=..., description=...)``; a required one without default has none."""
    kind = _PARAM_TYPES.get(param.type_label)
    nullable = default is None and not param.required
    args = [] if default is None and param.required else [lit(default)]
    if kind is not None:
        args.append(f"type={lit([kind, 'null'])}" if nullable else f"type={lit(kind)}")
    if param.help:
        args.append(f"description={lit(param.help)}")
    return f"Param({', '.join(args)})"
