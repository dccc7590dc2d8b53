"""``stepwell deployments | undeploy | scheduler | event publish`` (the local scheduler)."""

from __future__ import annotations

import json
import signal
import threading
import time
from datetime import timezone
from pathlib import Path
from typing import Any

import click

from stepwell.cli._errors import cli_errors


def _settings() -> Any:
    from stepwell.config import load_settings

    with cli_errors():
        return load_settings()


def _metadata(settings: Any) -> Any:
    from stepwell.metadata import open_configured_metadata

    with cli_errors():
        return open_configured_metadata(settings)


@click.command(help="List the deployed flows: when they run, the next fire, the last run.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per deployment.")
def deployments(as_json: bool) -> None:
    from stepwell.scheduler._service import deployment_statuses

    metadata = _metadata(_settings())
    with cli_errors():
        found = deployment_statuses(metadata, time.time())
    for status in found:
        d = status.deployment
        next_fire = (
            status.next_fire.astimezone(timezone.utc).isoformat() if status.next_fire else None
        )
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "name": d.name,
                        "version": d.version,
                        "flow": d.flow_name,
                        "when": status.when,
                        "next_fire": next_fire,
                        "last_run": status.last_run,
                        "last_status": status.last_status,
                        "deployed_by": d.deployed_by,
                    },
                    sort_keys=True,
                )
            )
            continue
        last = (
            f"{status.last_run} {status.last_status}"
            if status.last_run
            else (status.last_status or "never ran")
        )
        click.echo(f"{d.name}  v{d.version}  {status.when}  next: {next_fire or '-'}  last: {last}")
    if not found and not as_json:
        click.echo("Nothing is deployed. Deploy a flow with: python flow.py deploy")


@click.command(help="Stop scheduling a deployment (its versions stay in the history).")
@click.argument("name")
def undeploy(name: str) -> None:
    metadata = _metadata(_settings())
    with cli_errors():
        record = metadata.undeploy(name)
    click.echo(f"Undeployed {record.name} (was version {record.version}).")


@click.command(help="Start deployed flows on their @schedule, @trigger and @trigger_on_finish.")
@click.option(
    "--tick",
    type=click.FloatRange(min=0.05),
    default=0.5,
    show_default=True,
    help="Seconds between looks at the deployments.",
)
@click.option(
    "--clock-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Read the current time (epoch seconds) from this file (for tests).",
)
def scheduler(tick: float, clock_file: str | None) -> None:
    from stepwell.scheduler._daemon import SchedulerDaemon

    settings = _settings()
    metadata = _metadata(settings)
    clock = (lambda: float(Path(clock_file).read_text())) if clock_file else time.time
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    with cli_errors():
        SchedulerDaemon(metadata, Path(settings.home), clock=clock, tick=tick).serve(stop)


@click.group(help="Events that start deployed flows with @trigger.")
def event() -> None:
    pass


@event.command("publish", help="Publish event NAME (the scheduler starts what it triggers).")
@click.argument("name")
@click.option("--payload", default=None, metavar="JSON", help="A JSON object for the run.")
def publish(name: str, payload: str | None) -> None:
    from stepwell.scheduler._service import publish_event

    values: dict[str, Any] = {}
    if payload:
        try:
            values = json.loads(payload)
        except ValueError as exc:
            raise click.BadParameter(f"not JSON: {exc}", param_hint="--payload") from None
        if not isinstance(values, dict):
            raise click.BadParameter("must be a JSON object", param_hint="--payload")
    with cli_errors():
        record = publish_event(name, values, settings=_settings())
    click.echo(f"Published event {record.name} (id {record.event_id}).")
