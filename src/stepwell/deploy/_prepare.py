"""What every compiler does before compiling: the code package, the values, the branch.

A deployed flow runs from its content-addressed code package (stored once per
distinct content, as ``python flow.py deploy`` stores it), with its
parameters' deploy-time defaults, its configs' values (given to every task
as ``--config-value``, so each task sees the flow the user deployed) and its
@project branch (``--branch`` / ``--production`` on every task, or
``METAFLOW_OWNER`` for a user branch). :func:`prepare_flow` is the one place
both compilers get them from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class PreparedFlow:
    """The checked graph, the deployment plan, and what every task is given."""

    graph: Any
    plan: Any  # stepwell.scheduler._deploy.DeploymentPlan
    values: dict[str, Any]  # parameters' defaults and configs' values, by attribute
    top_level: list[str]  # options before `task` on every task's command line
    environment: dict[str, str]  # variables of every task


def store_code(
    flow_cls: type, settings: Any, flow_file: str, configs: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Store the code package of ``flow_file``'s folder; its key, datastore and script name.

    Its steps' @pypi / @conda environments are resolved (or found resolved) here, so
    their locks travel in the package and every task rebuilds exactly those.
    """
    from stepwell._version import __version__
    from stepwell.graph import check_flow
    from stepwell.runtime._graphprep import _build_environments, prepare_graph
    from stepwell.runtime._package import save_package
    from stepwell.runtime._params import deploy_time_values
    from stepwell.runtime._report import Reporter
    from stepwell.store import open_content_store

    graph = check_flow(flow_cls)
    values = deploy_time_values(flow_cls, settings.username, configs or {})
    decorators = prepare_graph(graph, flow_cls, values)
    environments = _build_environments(graph, decorators, settings, Reporter())
    store = open_content_store(settings.datastore_url, endpoint_url=settings.s3_endpoint_url)
    key = save_package(
        store, flow_file, flow_cls.__name__, __version__,
        suffixes=tuple(settings.package_suffixes), environments=environments,
    )  # fmt: skip
    return {"code_key": key, "datastore": settings.datastore_url, "script": Path(flow_file).name}


def prepare_flow(
    flow_cls: type,
    username: str,
    code: dict[str, Any],
    *,
    branch: str | None = None,
    production: bool = False,
    configs: dict[str, Any] | None = None,
    with_decorators: tuple[str, ...] = (),
) -> PreparedFlow:
    """Check the flow and plan its deployment (file:line errors for what is wrong)."""
    from stepwell.graph import check_flow
    from stepwell.runtime._graphprep import prepare_graph
    from stepwell.runtime._params import deploy_time_values
    from stepwell.runtime._project import project_of
    from stepwell.scheduler._deploy import plan_deployment

    graph = check_flow(flow_cls)
    values = deploy_time_values(flow_cls, username, configs or {})
    decorators = prepare_graph(graph, flow_cls, values, with_decorators)
    project = project_of(flow_cls, username, branch, production, decorators=decorators)
    plan = plan_deployment(
        flow_cls, graph, decorators, project=project, code=code, parameters=values,
        known_flows=upstream_names(decorators),  # an upstream flow need not have run here
    )  # fmt: skip
    top, env = project_options(project)
    top += config_options(flow_cls, values)
    top += [a for spec in with_decorators for a in ("--with", spec)]
    return PreparedFlow(graph, plan, values, top, env)


def config_options(flow_cls: type, values: dict[str, Any]) -> list[str]:
    found = []
    for attr, param in flow_cls._sw_parameters().items():  # type: ignore[attr-defined]
        if param.kind == "config" and values.get(attr) is not None:
            value = values[attr]
            plain = value.to_dict() if hasattr(value, "to_dict") else dict(value)
            found += ["--config-value", param.name, json.dumps(plain, sort_keys=True)]
    return found


def project_options(project: Any) -> tuple[list[str], dict[str, str]]:
    """Top-level options and environment putting every task on the deployed @project branch."""
    if project is None:
        return [], {}
    branch = project.branch_name
    if project.is_production:
        return [
            "--production",
            *(["--branch", branch[5:]] if branch.startswith("prod.") else []),
        ], {}
    if branch.startswith("test."):
        return ["--branch", branch[5:]], {}
    return [], {"METAFLOW_OWNER": branch[len("user.") :]}


def upstream_names(decorators: list[Any]) -> list[str]:
    """The flows @trigger_on_finish names: on a cluster they need not have run here."""
    deco = next((d for d in decorators if getattr(d, "NAME", "") == "trigger_on_finish"), None)
    if deco is None:
        return []
    items = [deco.flow] if deco.flow is not None else list(deco.flows)
    names = [i.get("name") if isinstance(i, dict) else i for i in items]
    return [n.rsplit(".", 1)[-1] for n in names if isinstance(n, str)]
