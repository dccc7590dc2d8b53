"""From a flow class and the user's settings to the documents: what ``create`` does before output.

:func:`build_documents` is pure (given the code package's key);
:func:`prepare_argo` stores the code package first, exactly as
``python flow.py deploy`` does for the local scheduler, and notes what a
cluster could not use (a local datastore or local metadata).

The parameters become workflow parameters with the flow's defaults as text
(``true``/``false``, numbers, JSON for the rest). A parameter without a
default is required by the workflow when it is ``required=True``; an optional
one without a default is left out (the run sees None), so it cannot be set
when the workflow is submitted. Configs are read once, here, and passed to
every task as ``--config-value NAME JSON``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from stepwell.deploy._command import deployment_environment
from stepwell.deploy.argo._names import resource_name
from stepwell.deploy.argo._workflow import ArgoOptions, compile_argo

LOCAL_STORES_WARNING = (
    "the datastore and/or the metadata are local to this machine ({stores}); the deployed "
    "flow's pods cannot reach them. Deploy with a shared S3 datastore (--datastore s3 "
    "--datastore-root s3://BUCKET/PREFIX) and PostgreSQL metadata (--metadata postgresql://...)."
)


@dataclass(frozen=True)
class ArgoDeployment:
    """The documents of one deployment, its names, and what the user should know."""

    name: str
    deployment: str
    flow_name: str
    documents: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)


def argo_name(
    flow_cls: type, username: str, branch: str | None = None, production: bool = False
) -> tuple[str, str]:
    """(Kubernetes name, deployment name) of ``flow_cls`` on its @project branch."""
    from stepwell.runtime._project import project_of
    from stepwell.scheduler._deploy import deployment_name

    project = project_of(flow_cls, username, branch, production)
    name = deployment_name(flow_cls.__name__, project)
    return resource_name(name), name


def build_documents(
    flow_cls: type,
    options: ArgoOptions,
    *,
    username: str,
    branch: str | None = None,
    production: bool = False,
    configs: dict[str, Any] | None = None,
    code: dict[str, Any] | None = None,
    with_decorators: tuple[str, ...] = (),
) -> ArgoDeployment:
    """The documents of ``flow_cls``; ``code`` is the code package (key, datastore, script).

    ``with_decorators``: ``--with`` specs, compiled here and given to every task too.
    """
    from stepwell.deploy._prepare import prepare_flow

    flow = prepare_flow(
        flow_cls, username, code or {}, branch=branch, production=production,
        configs=configs, with_decorators=with_decorators,
    )  # fmt: skip
    options = replace(
        options,
        parameters=_workflow_parameters(flow_cls, flow.values),
        top_level=(*flow.top_level, *options.top_level),
        environment={**flow.environment, **options.environment},
        package=(code or {}).get("code_key", options.package),
    )
    graph, plan = flow.graph, flow.plan
    documents = compile_argo(graph, plan, options)
    return ArgoDeployment(resource_name(plan.name), plan.name, plan.flow_name, documents)


def prepare_argo(
    flow_cls: type,
    settings: Any,
    options: ArgoOptions,
    *,
    flow_file: str,
    branch: str | None = None,
    production: bool = False,
    configs: dict[str, Any] | None = None,
    with_decorators: tuple[str, ...] = (),
) -> ArgoDeployment:
    """Store the flow's code package in the datastore, then :func:`build_documents`."""
    from stepwell.deploy._prepare import store_code

    code = store_code(flow_cls, settings, flow_file, configs)
    script = code["script"]
    options = replace(
        options,
        flow_file=script,
        environment={**deployment_environment(settings), **options.environment},
    )
    built = build_documents(
        flow_cls, options, username=settings.username, branch=branch,
        production=production, configs=configs, code=code, with_decorators=with_decorators,
    )  # fmt: skip
    local = [s for s in ("datastore", "metadata") if str(getattr(settings, s)) == "local"]
    if local:
        stores = " and ".join(f"{s}: local" for s in local)
        built.warnings.append(LOCAL_STORES_WARNING.format(stores=stores))
    return built


def _workflow_parameters(flow_cls: type, values: dict[str, Any]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for attr, param in flow_cls._sw_parameters().items():  # type: ignore[attr-defined]
        value = values.get(attr)
        if param.kind == "config" or (value is None and not param.required):
            continue
        found[param.name] = None if value is None else _text(param, value)
    return found


def _text(param: Any, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if param.separator and isinstance(value, (list, tuple)):
        return str(param.separator).join(str(v) for v in value)
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, sort_keys=True)
