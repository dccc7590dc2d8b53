"""``stepwell db``: the metadata database's schema (status, upgrade)."""

from __future__ import annotations

import click

from stepwell.cli._errors import cli_errors
from stepwell.cli._options import metadata_option


def _store(metadata: str | None) -> object:
    from stepwell.config import load_settings
    from stepwell.metadata import open_configured_metadata

    return open_configured_metadata(load_settings(metadata=metadata))


@click.group(help="The metadata database: its schema version and upgrades.")
def db() -> None:
    pass


@db.command(help="Show the database and its schema version.")
@metadata_option
def status(metadata: str | None) -> None:
    from stepwell.metadata._schema import LATEST_VERSION

    with cli_errors():
        store = _store(metadata)
        version = store.schema_version()  # type: ignore[attr-defined]
        click.echo(f"{store.describe()}")  # type: ignore[attr-defined]
        state = (
            "up to date" if version == LATEST_VERSION
            else "no stepwell schema: run 'stepwell db upgrade'" if version == 0
            else f"needs an upgrade to {LATEST_VERSION}: run 'stepwell db upgrade'"
            if version < LATEST_VERSION
            else f"newer than this stepwell ({LATEST_VERSION}): upgrade stepwell"
        )  # fmt: skip
        click.echo(f"  schema version: {version} ({state})")


@db.command(help="Create the schema, or upgrade it to this stepwell's version (idempotent).")
@metadata_option
def upgrade(metadata: str | None) -> None:
    with cli_errors():
        store = _store(metadata)
        before, after = store.upgrade()  # type: ignore[attr-defined]
        name = store.describe()  # type: ignore[attr-defined]
        if before == after:
            click.echo(f"{name}: schema version {after}, already up to date.")
        elif before == 0:
            click.echo(f"{name}: schema created (version {after}).")
        else:
            click.echo(f"{name}: schema upgraded from version {before} to {after}.")
