"""Options shared by several commands."""

from __future__ import annotations

import os

import click

from stepwell.cli._errors import cli_errors

#: ``--metadata URL``, as ``stepwell``, ``python flow.py`` and ``stepwell db`` take it.
metadata_option = click.option(
    "--metadata",
    default=None,
    metavar="URL",
    help="Where runs are recorded: local or postgresql://USER@HOST:PORT/DB "
    "(default: STEPWELL_METADATA or local).",
)


def use_metadata(url: str) -> None:
    """``--metadata URL``: this process and the tasks it starts record runs there.

    Checked now (a bad value stops the command with one message), then put in
    the environment so every reader in the process (Client, dump, logs, cards)
    and every task sees it.
    """
    from stepwell.config import load_settings

    with cli_errors():
        load_settings(metadata=url)
    os.environ["STEPWELL_METADATA"] = url
