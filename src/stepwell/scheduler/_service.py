"""What the commands and the Deployer do: deploy, list, undeploy, publish, trigger now."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from stepwell.metadata import DeploymentRecord, EventRecord, open_configured_metadata
from stepwell.scheduler._deploy import plan_deployment
from stepwell.scheduler._schedule import Schedule


def deploy_flow(
    flow_cls: type,
    settings: Any,
    *,
    flow_file: str,
    branch: str | None = None,
    production: bool = False,
) -> DeploymentRecord:
    """Store the flow's code package and record it as the new version of its deployment."""
    plan = _plan(flow_cls, settings, flow_file, branch, production)
    metadata = open_configured_metadata(settings)
    try:
        return metadata.save_deployment(
            plan.name, plan.flow_name, plan.spec, user=settings.username
        )
    finally:
        metadata.close()


#: The flow decorators a deployment reads (and ``check`` validates).
_DEPLOYMENT_DECORATORS = ("schedule", "trigger", "trigger_on_finish")


def check_deployment(flow_cls: type, settings: Any) -> None:
    """What ``deploy`` would refuse in @schedule / @trigger / @trigger_on_finish, said now.

    ``python flow.py check`` calls it: a cron string that does not parse, an
    event mapped to a parameter the flow lacks, or an upstream flow that
    neither ran nor was deployed in this store raise a ConfigError at the
    flow's file:line. Nothing is written (a store that does not exist yet
    knows no flow).
    """
    names = {getattr(d, "NAME", "") for d in getattr(flow_cls, "__stepwell_flow_decorators__", ())}
    if names & set(_DEPLOYMENT_DECORATORS):
        _plan(flow_cls, settings, None, None, False)


def _plan(
    flow_cls: type,
    settings: Any,
    flow_file: str | None,
    branch: str | None,
    production: bool,
) -> Any:
    """The flow's deployment plan (a ConfigError with file:line for what is wrong in it).

    With ``flow_file``, the code package is stored once the flow checked out; without
    it (``check``) the plan names no package.
    """
    from stepwell.graph import check_flow
    from stepwell.runtime._graphprep import prepare_graph
    from stepwell.runtime._project import project_of

    graph = check_flow(flow_cls)
    defaults = _defaults(flow_cls, settings.username)
    decorators = prepare_graph(graph, flow_cls, defaults)
    project = project_of(flow_cls, settings.username, branch, production, decorators=decorators)
    known = {flow_cls.__name__, *_known_flows(settings)}
    code = _store_package(flow_cls, settings, flow_file) if flow_file is not None else {}
    return plan_deployment(
        flow_cls, graph, decorators, project=project, code=code, parameters=defaults,
        known_flows=sorted(known),
    )  # fmt: skip


def _store_package(flow_cls: type, settings: Any, flow_file: str) -> dict[str, Any]:
    from stepwell._version import __version__
    from stepwell.runtime._package import save_package
    from stepwell.store import open_content_store

    store = open_content_store(settings.datastore_url, endpoint_url=settings.s3_endpoint_url)
    key = save_package(
        store, flow_file, flow_cls.__name__, __version__, suffixes=tuple(settings.package_suffixes)
    )
    return {"code_key": key, "datastore": settings.datastore_url, "script": Path(flow_file).name}


def _known_flows(settings: Any) -> set[str]:
    """Flows with runs or deployments in the configured metadata store (none if it is new)."""
    from stepwell.metadata import is_local

    if is_local(settings.metadata) and not (Path(settings.home) / "stepwell.db").exists():
        return set()
    metadata = open_configured_metadata(settings)
    try:
        return set(metadata.list_flows()) | {d.flow_name for d in metadata.list_deployments()}
    finally:
        metadata.close()


def _defaults(flow_cls: type, user: str) -> dict[str, Any]:
    """The parameters' default values (a required one without a default is left out)."""
    from stepwell.runtime._params import deploy_time_values

    return {k: v for k, v in deploy_time_values(flow_cls, user).items() if v is not None}


@dataclass(frozen=True)
class DeploymentStatus:
    """One line of ``stepwell deployments``."""

    deployment: DeploymentRecord
    when: str
    next_fire: datetime | None
    last_run: str | None
    last_status: str | None


def deployment_statuses(metadata: Any, now: float) -> list[DeploymentStatus]:
    """Every active deployment with its triggers, next fire time and last run's status."""
    found = []
    for deployment in metadata.list_deployments():
        spec = deployment.spec
        when, next_fire = [], None
        if spec.get("schedule"):
            schedule = Schedule(spec["schedule"]["cron"], spec["schedule"]["timezone"])
            when.append(schedule.describe())
            next_fire = schedule.next_fire(datetime.fromtimestamp(now, tz=timezone.utc))
        when += [f"event {e['name']}" for e in spec.get("events", [])]
        when += [f"after {a['flow']}" for a in spec.get("after_flows", [])]
        last_run, status = _last_run(metadata, deployment)
        found.append(
            DeploymentStatus(
                deployment, ", ".join(when) or "on demand", next_fire, last_run, status
            )
        )
    return found


def _last_run(metadata: Any, deployment: DeploymentRecord) -> tuple[str | None, str | None]:
    fires = sorted(metadata.list_fires(deployment.name, limit=100), key=lambda f: f.claimed_at)
    for fire in reversed(fires):
        run_id = fire.run_id
        if run_id is None:
            return None, "starting"
        if run_id.startswith("pending:"):
            from stepwell.runtime._fired import pid_alive

            alive = pid_alive(int(run_id[len("pending:") :]))
            return None, "starting" if alive else "failed to start (see the scheduler's log)"
        run = metadata.get_run(deployment.flow_name, run_id)
        return f"{deployment.flow_name}/{run_id}", str(run.status)
    return None, None


def publish_event(
    name: str, payload: Mapping[str, Any] | None = None, *, settings: Any = None
) -> EventRecord:
    """Publish event ``name``: ``stepwell scheduler`` starts the deployments it triggers.

    ``payload`` (a JSON object) reaches the runs as ``current.trigger.event.payload``,
    and as parameter values where ``@trigger`` maps its fields to parameters.

    Example:
        >>> publish_event("data_ready", {"date": "2026-12-05"})  # doctest: +SKIP
    """
    if settings is None:
        from stepwell.config import load_settings

        settings = load_settings()
    metadata = open_configured_metadata(settings)
    try:
        return metadata.publish_event(name, dict(payload or {}), user=settings.username)
    finally:
        metadata.close()


def trigger_now(settings: Any, name: str, parameters: Mapping[str, Any]) -> Any:
    """Start a run of deployment ``name`` now, from its code package (``Deployer.trigger``).

    The fire (``manual:<id>``) is claimed like any other, so the run is
    recorded as the deployment's; the caller gets the run's process.
    """
    from stepwell.runtime._fired import PENDING
    from stepwell.scheduler._start import start_run

    metadata = open_configured_metadata(settings)
    try:
        deployment = metadata.get_deployment(name)
        key = f"manual:{uuid.uuid4().hex}"
        payload = {k: v for k, v in parameters.items()}
        trigger = {
            "events": [{"type": "manual", "name": "trigger", "id": key[7:], "payload": payload}]
        }
        metadata.claim_fire(
            name, key, version=deployment.version, holder="trigger", trigger=trigger
        )
        explicit = {
            **deployment.spec,
            "events": [{"name": "trigger", "parameters": {k: k for k in payload}}],
        }
        proc = start_run(
            Path(settings.home),
            _with_spec(deployment, explicit),
            key,
            trigger,
            log_dir=Path(settings.home) / "deployments" / "logs",
        )
        metadata.set_fire_run(name, key, f"{PENDING}{proc.pid}")
        return proc, key
    finally:
        metadata.close()


def _with_spec(deployment: DeploymentRecord, spec: dict[str, Any]) -> DeploymentRecord:
    from dataclasses import replace

    return replace(deployment, spec=spec)
