"""``stepwell settings``: every setting, its value, and where the value came from."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from stepwell.cli._errors import cli_errors


def settings_rows(env: Mapping[str, str] | None = None, cwd: Path | None = None) -> list[dict]:
    """One row per setting: name, shown value (secrets in URLs redacted), source, variables.

    ``source`` is ``env:NAME`` (the variable that gave the value), the path of
    the ``stepwell.toml`` it came from, or ``default``.
    """
    from stepwell.config import load_settings, setting_names, variables_of

    settings = load_settings(env=env, cwd=cwd)
    return [
        {
            "name": name,
            "value": _shown(getattr(settings, name)),
            "source": settings.source(name),
            "variables": list(variables_of(name)),
        }
        for name in setting_names()
    ]


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    if "://" in text and "@" in text:
        from stepwell.metadata import redact_url

        return str(redact_url(text))
    return text


@click.command(
    "settings",
    help="Show every setting, its value and where it came from (variable, file or default).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the settings as JSON.")
def settings(as_json: bool) -> None:
    with cli_errors():
        rows = settings_rows()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    width = max(len(row["name"]) for row in rows)
    value_width = min(40, max(len(str(row["value"])) for row in rows))
    for row in rows:
        value = "-" if row["value"] is None else row["value"]
        click.echo(f"{row['name']:<{width}}  {value:<{value_width}}  ({row['source']})")
    click.echo(
        "\nEach setting is read from the first of its variables that is set (stepwell's "
        "name first, then Metaflow's), else stepwell.toml, else its default. "
        "Variables: stepwell settings --json."
    )
