"""``stepwell server``: the UI and JSON API of a team's shared store, with accounts.

The accounts are the API tokens of the metadata store (``stepwell server
token create``), so they live with the runs (SQLite or PostgreSQL) and every
server process sees the same ones. Rules:

- Beyond loopback, the server starts only once a token has been created; on
  loopback with no token ever created it is open like ``stepwell ui``.
- Plain HTTP beyond loopback is allowed (a TLS proxy may sit in front) but
  warned about at start; ``tls_cert``/``tls_key`` serve HTTPS directly.
- It logs one line per decision (start, sign-ins, failures, stop), never a
  secret, and stops cleanly on SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import logging
import os
import signal
import ssl
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from stepwell.exceptions import ConfigError
from stepwell.ui._access import CREATE_HINT, AccountAccess, is_loopback
from stepwell.ui._ratelimit import FailureLimiter
from stepwell.ui._server import UiServer

log = logging.getLogger("stepwell.ui")


def _metadata() -> Any:
    from stepwell.client._backend import get_backend

    return get_backend().metadata


def tls_context(cert: str | os.PathLike[str], key: str | os.PathLike[str] | None) -> ssl.SSLContext:
    """A server TLS context (TLS 1.2+) from a PEM certificate chain and its private key.

    ``key`` may be ``None`` when the certificate file holds the key too.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"Cannot load the TLS certificate {os.fspath(cert)!r} "
            f"(key: {os.fspath(key) if key else 'in the same file'!r}): {exc}.\n"
            "Give a PEM certificate chain with --tls-cert and its private key with --tls-key.",
            cert=os.fspath(cert),
        ) from None
    return context


def make_team_server(
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    tls_cert: str | os.PathLike[str] | None = None,
    tls_key: str | os.PathLike[str] | None = None,
    home: str | os.PathLike[str] | None = None,
    limiter: FailureLimiter | None = None,
) -> UiServer:
    """Build the team server, bound but not serving.

    Raises :class:`~stepwell.exceptions.ConfigError`, before binding, when
    ``host`` is not loopback and no token was ever created, or when the TLS
    files cannot be loaded. ``home`` sets ``STEPWELL_HOME`` for this process;
    ``limiter`` counts failed tokens (default: 5 per 60 s per client address).
    """
    from stepwell.client import namespace

    if home is not None:
        os.environ["STEPWELL_HOME"] = str(home)
    if tls_key is not None and tls_cert is None:
        raise ConfigError("A TLS key needs its certificate: give --tls-cert too.")
    loopback = is_loopback(host)
    has_tokens = _metadata().has_tokens()
    if not loopback and not has_tokens:
        raise ConfigError(
            f"Refusing to serve {host}: no API token has been created, so the server could "
            "not tell who may read the store.\n"
            f"Create one first: {CREATE_HINT}\n"
            "Or bind 127.0.0.1 (the default) to serve this machine only.",
            host=host,
        )
    tls = tls_context(tls_cert, tls_key) if tls_cert is not None else None
    opened = loopback and not has_tokens
    access = AccountAccess(_metadata, open_until_tokens=opened, limiter=limiter or FailureLimiter())
    namespace(None)
    return UiServer((host, port), access=access, tls=tls)


def serve_team(
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    tls_cert: str | os.PathLike[str] | None = None,
    tls_key: str | os.PathLike[str] | None = None,
    home: str | os.PathLike[str] | None = None,
    block: bool = True,
) -> UiServer:
    """Start the team server: log how it serves, then serve.

    With ``block=True`` (the CLI) serve until SIGTERM or Ctrl-C, then close;
    with ``block=False`` serve from a daemon thread and return the server
    (stop it with ``shutdown()`` and ``server_close()``).
    """
    server = make_team_server(host, port, tls_cert=tls_cert, tls_key=tls_key, home=home)
    _announce(server, host)
    if not block:
        server.start_in_thread()
        return server
    with _stop_on_sigterm(server):
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            log.info("Interrupted: stopping.")
        finally:
            server.server_close()
            from stepwell.client import reset_client

            reset_client()  # closes the metadata store's connection
            log.info("Stopped.")
    return server


def _announce(server: UiServer, host: str) -> None:
    print(f"stepwell server: {server.url}", file=sys.stderr, flush=True)
    if server.access.is_open:
        log.info("Serving %s without sign-in: no token has been created, so only this machine "
                 "is served (as by stepwell ui). Create one with: %s", server.url,
                 CREATE_HINT)  # fmt: skip
        return
    active = len(_metadata().list_tokens())
    log.info("Serving %s; sign-in required (%d active token(s)).", server.url, active)
    if not active:
        log.warning("Every token is revoked: nobody can sign in. Create one with: %s", CREATE_HINT)
    if server.tls is None and not is_loopback(host):
        log.warning("Serving %s over plain HTTP: tokens and pages cross the network "
                    "unencrypted. Use --tls-cert/--tls-key, or a TLS proxy in front of a "
                    "127.0.0.1 bind.", host)  # fmt: skip


@contextmanager
def _stop_on_sigterm(server: UiServer) -> Iterator[None]:
    """On SIGTERM, stop serving (``serve_forever`` returns); restores the old handler after."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only
        return

    def stop(signum: int, frame: Any) -> None:
        log.info("SIGTERM: stopping.")
        threading.Thread(target=server.shutdown, name="stepwell-stop", daemon=True).start()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
