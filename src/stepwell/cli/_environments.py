"""``stepwell environments list | prune``: the @pypi / @conda environments built on this machine."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import click

from stepwell.cli._errors import cli_errors
from stepwell.cli._gc import _size


def _store() -> Any:
    from stepwell.config import load_settings
    from stepwell.environments import EnvironmentStore

    with cli_errors():
        settings = load_settings()
    return EnvironmentStore(Path(settings.home) / "environments")


@click.group(help="The step environments (@pypi, @conda) built under STEPWELL_HOME.")
def environments() -> None:
    pass


@environments.command(
    "list", help="Each environment: its lock, packages asked for, size, last use."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per environment.")
def list_command(as_json: bool) -> None:
    found = _store().list_environments()
    if as_json:
        for info in found:
            click.echo(json.dumps(info, sort_keys=True))
        return
    if not found:
        click.echo("No environments built yet.")
        return
    for info in found:
        used = datetime.datetime.fromtimestamp(info["last_used"]).strftime("%Y-%m-%d %H:%M")
        requested = ", ".join(info.get("requested") or []) or "(no packages)"
        click.echo(
            f"{info.get('lock_hash', '?')}  @{info.get('kind', 'pypi')}  "
            f"Python {info.get('python_version', '?')}  {_size(info['bytes'])}  "
            f"last used {used}\n    {requested}\n    {info['path']}"
        )


@environments.command(help="Delete environments no run has used for a while (locks are kept).")
@click.option("--older-than-days", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Delete those last used more than this many days ago.")  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Only say what would be deleted.")
def prune(older_than_days: float, dry_run: bool) -> None:
    removed = _store().prune(older_than_days * 86400, dry_run=dry_run)
    freed = sum(info["bytes"] for info in removed)
    verb = "Would remove" if dry_run else "Removed"
    click.echo(f"{verb} {len(removed)} environments ({_size(freed)}); environments in use by a "
               "running run are never removed.")  # fmt: skip
    for info in removed:
        click.echo(f"  {info['path']}")
