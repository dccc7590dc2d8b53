"""``stepwell server``: serve a team's store with accounts; ``stepwell server token ...``."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import click

from stepwell.cli._errors import cli_errors

_TOKEN_HEADER = ("id", "user", "note", "created", "last used", "revoked")


def _store() -> Any:
    from stepwell.client._backend import get_backend

    return get_backend().metadata


def _when(epoch: float | None, none: str = "") -> str:
    return none if epoch is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch))


def _log_to_stderr(level: str) -> None:
    """One line per decision on stderr, with the time (unless logging is set up already)."""
    logger = logging.getLogger("stepwell.ui")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level.upper())


@click.group(
    "server",
    invoke_without_command=True,
    help="Serve the web UI and its read-only JSON API for a team's shared store, with "
    "accounts: every request needs an API token (see 'stepwell server token'). "
    "On 127.0.0.1 with no token created yet, it serves this machine only, like 'stepwell ui'.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
    help="Port to bind (0: any free port).",
)  # fmt: skip
@click.option(
    "--tls-cert", type=click.Path(dir_okay=False), default=None,
    help="Serve HTTPS with this PEM certificate chain.",
)  # fmt: skip
@click.option(
    "--tls-key", type=click.Path(dir_okay=False), default=None,
    help="The certificate's private key (PEM; default: in the certificate file).",
)  # fmt: skip
@click.option(
    "--log-level", type=click.Choice(["info", "debug"]), default="info", show_default=True,
    help="debug also logs every request line (tokens masked).",
)  # fmt: skip
@click.pass_context
def server(
    ctx: click.Context,
    host: str,
    port: int,
    tls_cert: str | None,
    tls_key: str | None,
    log_level: str,
) -> None:
    if ctx.invoked_subcommand is not None:
        return
    from stepwell.ui import serve_team

    _log_to_stderr(log_level)
    with cli_errors():
        serve_team(host, port, tls_cert=tls_cert, tls_key=tls_key)


@server.group(help="Create, list and revoke the API tokens that sign in to 'stepwell server'.")
def token() -> None:
    pass


@token.command(help="Create a token for a user and print it (shown only this once).")
@click.option("--user", required=True, help="The user the token signs in as.")
@click.option("--note", default=None, help="What the token is for (shown by 'token list').")
def create(user: str, note: str | None) -> None:
    with cli_errors():
        record, secret = _store().new_token(user, note=note)
    click.echo(f"Created token {record.token_id} for {record.user}. Copy it now: "
               "it is not shown again.", err=True)  # fmt: skip
    click.echo(secret)
    click.echo("Use it: sign in at the server's page, or send the header "
               "'Authorization: Bearer <token>'.", err=True)  # fmt: skip


@token.command("list", help="List the tokens (never their secrets), oldest first.")
@click.option("--user", default=None, help="Only this user's tokens.")
@click.option("--active", is_flag=True, help="Hide revoked tokens.")
def list_tokens(user: str | None, active: bool) -> None:
    from stepwell.cli._inspect import _table

    with cli_errors():
        records = _store().list_tokens(user=user, include_revoked=not active)
    if not records:
        click.echo("No tokens. Create one with: stepwell server token create --user NAME")
        return
    rows: list[tuple[str, ...]] = [
        (r.token_id, r.user, r.note or "", _when(r.created_at), _when(r.last_used_at, "never"),
         _when(r.revoked_at))
        for r in records
    ]  # fmt: skip
    _table(_TOKEN_HEADER, rows)


@token.command(help="Revoke a token by its id: requests with it are refused from now on.")
@click.argument("token_id")
def revoke(token_id: str) -> None:
    with cli_errors():
        record = _store().revoke_token(token_id)
    click.echo(f"Token {record.token_id} of {record.user} is revoked "
               f"(since {_when(record.revoked_at)}): requests with it are refused.")  # fmt: skip
