"""``python flow.py argo-workflows create|trigger|list-runs|delete``: the flow on Argo Workflows.

Parse, call ``stepwell.deploy.argo``, print. ``create --only-json`` prints the
documents as one JSON list and needs no cluster; every other command needs
one (the kubeconfig's) and says so in one message when there is none.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from stepwell.cli._errors import cli_errors
from stepwell.config import load_settings
from stepwell.exceptions import ParameterError


def argo_workflows_group(flow_cls: type, flow_file: str) -> click.Group:
    """The ``argo-workflows`` command group of one flow."""

    @click.group("argo-workflows", help="Deploy the flow to Argo Workflows, and run it there.")
    def group() -> None:
        pass

    group.add_command(_create(flow_cls, flow_file))
    group.add_command(_trigger(flow_cls))
    group.add_command(_list_runs(flow_cls))
    group.add_command(_delete(flow_cls))
    return group


def _settings(obj: dict[str, Any]) -> Any:
    overrides = {"datastore": obj.get("datastore"), "datastore_root": obj.get("datastore_root")}
    if obj.get("package_suffixes"):
        overrides["package_suffixes"] = obj["package_suffixes"]
    return load_settings(**overrides)


_NAMESPACE = click.option(
    "--namespace", "k8s_namespace", default=None, metavar="K8S_NAMESPACE",
    help="The Kubernetes namespace (default: the kubeconfig context's).",
)  # fmt: skip

_CREATE_OPTIONS = [
    click.option("--only-json", is_flag=True,
                 help="Print the documents as one JSON list instead of applying them; no "
                      "cluster needed."),
    click.option("--image", default=None, metavar="IMAGE",
                 help="The image every step runs in (default: python:3.11); it must hold "
                      "stepwell and every package the flow imports."),
    _NAMESPACE,
    click.option("--tag", "tags", multiple=True, help="A tag of every run (repeatable)."),
    click.option("--max-workers", type=click.IntRange(min=1), default=100, show_default=True,
                 help="Tasks of one run that run at once (the workflow's parallelism)."),
    click.option("--workflow-timeout", type=click.IntRange(min=1), default=None,
                 metavar="SECONDS", help="Stop a run that takes longer than this."),
    click.option("--service-account", default=None,
                 help="The Kubernetes service account of the steps' pods."),
    click.option("--sensor-service-account", default=None,
                 help="The service account of the Sensor's pod (it submits workflows)."),
    click.option("--event-source", default="stepwell-events", show_default=True,
                 envvar="STEPWELL_ARGO_EVENT_SOURCE",
                 help="The Argo Events EventSource (a webhook with an endpoint 'stepwell') "
                      "that @trigger and @trigger_on_finish listen to."),
    click.option("--events-webhook-url", default=None, envvar="STEPWELL_ARGO_EVENTS_WEBHOOK_URL",
                 help="That EventSource's URL: a successful run posts its finished event there "
                      "(for flows with @trigger_on_finish on this one)."),
    click.option("--deployer-attribute-file", default=None, hidden=True,
                 type=click.Path(dir_okay=False)),
]  # fmt: skip


_CREATE_HELP = (
    "Compile the flow to Argo Workflows and deploy it: a WorkflowTemplate, a CronWorkflow for "
    "@schedule, a Sensor for @trigger / @trigger_on_finish."
)


def _create(flow_cls: type, flow_file: str) -> click.Command:
    @click.command("create", help=_CREATE_HELP)
    @click.pass_context
    def create(ctx: click.Context, **opts: Any) -> None:
        from stepwell.deploy.argo import ArgoOptions, prepare_argo

        obj = ctx.find_root().obj or {}
        with cli_errors():
            cluster = None if opts["only_json"] else _cluster("create", opts["k8s_namespace"])
            options = ArgoOptions(
                image=opts["image"] or ArgoOptions.image, namespace=opts["k8s_namespace"],
                tags=tuple(opts["tags"]), max_workers=opts["max_workers"],
                workflow_timeout=opts["workflow_timeout"],
                service_account=opts["service_account"],
                sensor_service_account=opts["sensor_service_account"],
                event_source=opts["event_source"], events_webhook_url=opts["events_webhook_url"],
            )  # fmt: skip
            built = prepare_argo(
                flow_cls, _settings(obj), options, flow_file=flow_file,
                branch=obj.get("branch"), production=bool(obj.get("production")),
                configs=obj.get("configs"), with_decorators=tuple(obj.get("with") or ()),
            )  # fmt: skip
            for warning in built.warnings:
                click.echo(f"Warning: {warning}", err=True)
            if cluster is None:
                click.echo(json.dumps(built.documents, indent=2))
            else:
                kinds = cluster.apply(built.documents, built.name)
                click.echo(
                    f"Deployed {built.deployment} to Argo Workflows as {built.name} in namespace "
                    f"{cluster.namespace}: {', '.join(kinds)}.",
                    err=True,
                )
            _write_attributes(opts["deployer_attribute_file"], built, cluster)

    for option in reversed(_CREATE_OPTIONS):
        create = option(create)
    return create


def _write_attributes(path: str | None, built: Any, cluster: Any) -> None:
    """What the Deployer reads back: names, namespace and documents."""
    if not path:
        return
    namespace = cluster.namespace if cluster is not None else None
    data = {"name": built.name, "deployment": built.deployment, "flow_name": built.flow_name,
            "namespace": namespace, "documents": built.documents}  # fmt: skip
    Path(path).write_text(json.dumps(data))


def _cluster(command: str, namespace: str | None) -> Any:
    from stepwell.deploy.argo._cluster import Cluster

    return Cluster(command, namespace)


def _name(flow_cls: type, obj: dict[str, Any]) -> str:
    from stepwell.deploy.argo import argo_name

    settings = load_settings()
    branch, production = obj.get("branch"), bool(obj.get("production"))
    return argo_name(flow_cls, settings.username, branch, production)[0]


def _trigger(flow_cls: type) -> click.Command:
    @click.command("trigger", help="Start a run of the deployed flow on Argo Workflows.")
    @click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
                  help="A parameter's value for this run (repeatable).")  # fmt: skip
    @_NAMESPACE
    @click.pass_context
    def trigger(ctx: click.Context, params: tuple[str, ...], k8s_namespace: str | None) -> None:
        obj = ctx.find_root().obj or {}
        with cli_errors():
            cluster = _cluster("trigger", k8s_namespace)
            values = _parameters(flow_cls, params)
            name = _name(flow_cls, obj)
            workflow = cluster.submit(name, values)
            click.echo(f"Started workflow {workflow} of {name} in namespace {cluster.namespace}.")

    return trigger


def _parameters(flow_cls: type, given: tuple[str, ...]) -> dict[str, str]:
    known = {p.name for p in flow_cls._sw_parameters().values() if p.kind != "config"}  # type: ignore[attr-defined]
    values = {}
    for text in given:
        name, sep, value = text.partition("=")
        if not sep or name not in known:
            valid = ", ".join(sorted(known)) or "none"
            raise ParameterError(
                f"--param {text!r}: give NAME=VALUE with NAME a parameter of "
                f"{flow_cls.__name__} (its parameters: {valid})."
            )
        values[name] = value
    return values


def _list_runs(flow_cls: type) -> click.Command:
    @click.command("list-runs", help="List the deployed flow's workflows, newest first.")
    @_NAMESPACE
    @click.pass_context
    def list_runs(ctx: click.Context, k8s_namespace: str | None) -> None:
        obj = ctx.find_root().obj or {}
        with cli_errors():
            cluster = _cluster("list-runs", k8s_namespace)
            runs = cluster.list_runs(_name(flow_cls, obj))
        for run in runs:
            click.echo(f"{run['name']}  {run['phase']}  {run['started']}  {run['finished']}")
        if not runs:
            click.echo("No workflows yet.", err=True)

    return list_runs


def _delete(flow_cls: type) -> click.Command:
    @click.command("delete", help="Delete the deployed flow (template, schedule, sensor).")
    @_NAMESPACE
    @click.pass_context
    def delete(ctx: click.Context, k8s_namespace: str | None) -> None:
        obj = ctx.find_root().obj or {}
        with cli_errors():
            cluster = _cluster("delete", k8s_namespace)
            name = _name(flow_cls, obj)
            kinds = cluster.delete(name)
        click.echo(f"Deleted {name}: {', '.join(kinds) or 'nothing was deployed'}.")

    return delete
