"""Who may use the UI server, decided once per request.

Three kinds of access:

- :class:`OpenAccess` (``stepwell ui`` on loopback): no sign-in; only requests
  whose ``Host`` is a loopback name are served (no DNS rebinding).
- :class:`SharedTokenAccess` (``stepwell ui --token``): one secret given at
  start, sent as a bearer header, a ``?token=`` parameter or the cookie.
- :class:`AccountAccess` (``stepwell server``): the API tokens of the
  metadata store, sent as a bearer header or the cookie set by the sign-in
  page, never in a URL. Failures are rate-limited per client address. On
  loopback, while no token has ever been created, it is open like
  :class:`OpenAccess`; the first token created turns sign-in on for good.

Nothing here logs a secret: log lines name the user, the token id and the
client address.
"""

from __future__ import annotations

import abc
import hmac
import ipaddress
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from stepwell.exceptions import StepwellError
from stepwell.ui._ratelimit import FailureLimiter

log = logging.getLogger("stepwell.ui")

COOKIE = "stepwell_token"
_PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-IP")
_RECHECK = 2.0  # seconds between checks for a first token while open
CREATE_HINT = "stepwell server token create --user NAME"


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine only."""
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str:
    """The host of a Host header, without the port: ``[::1]:8080`` -> ``::1``."""
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


@dataclass(frozen=True)
class Credentials:
    """What a request offers to be let in; built by :meth:`of`."""

    client: str  # the peer's address
    host: str  # the Host header
    bearer: str | None = None  # Authorization: Bearer <token>
    cookie: str | None = None  # the stepwell_token cookie
    url_tokens: tuple[str, ...] = ()  # ?token=... values
    forwarded: bool = False  # it came through a proxy (X-Forwarded-For, ...)

    @classmethod
    def of(cls, headers: Any, client: str, query: Mapping[str, list[str]]) -> Credentials:
        scheme, _, value = (headers.get("Authorization") or "").strip().partition(" ")
        bearer = value.strip() if scheme.lower() == "bearer" else ""
        return cls(
            client=client,
            host=headers.get("Host") or "",
            bearer=bearer or None,
            cookie=cookie_value(headers.get("Cookie") or ""),
            url_tokens=tuple(v for v in query.get("token", []) if v),
            forwarded=any(headers.get(name) for name in _PROXY_HEADERS),
        )


def cookie_value(header: str) -> str | None:
    """The first non-empty ``stepwell_token`` of a Cookie header."""
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and value:
            return value
    return None


@dataclass(frozen=True)
class Identity:
    """Who a request is: a signed-in user (``user``, ``token_id``) or anyone (``None``)."""

    user: str | None = None
    token_id: str | None = None
    set_cookie: bool = False  # stepwell ui: the token came in the URL; keep it in a cookie


class Refusal(Exception):
    """A request that is not let in: its status, message and how to answer it.

    ``sign_in``: a browser opening a page should be sent to the sign-in page.
    ``clear_cookie``: the cookie it sent is no good; tell the browser to drop it.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        retry_after: float | None = None,
        sign_in: bool = False,
        clear_cookie: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = None if retry_after is None else max(1, math.ceil(retry_after))
        self.sign_in = sign_in
        self.clear_cookie = clear_cookie


class Access(abc.ABC):
    """Decides who a request is, or refuses it."""

    sign_in: bool = False
    """Whether the server has a sign-in page (``/login``, ``/logout``)."""

    @property
    def is_open(self) -> bool:
        """Whether requests are served without any credentials."""
        return False

    @abc.abstractmethod
    def identify(self, credentials: Credentials) -> Identity:
        """The identity of the request, or raise :class:`Refusal`."""


class OpenAccess(Access):
    """No credentials; only loopback Host names (a page elsewhere cannot rebind to us)."""

    @property
    def is_open(self) -> bool:
        return True

    def identify(self, credentials: Credentials) -> Identity:
        host = host_name(credentials.host)
        if host and not is_loopback(host):
            raise Refusal(403, f"Host {host!r} refused: this UI serves loopback only.")
        return Identity()


class SharedTokenAccess(Access):
    """One secret for everyone (``stepwell ui --token``), in a header, the URL or the cookie."""

    def __init__(self, token: str) -> None:
        self.token = token

    def identify(self, credentials: Credentials) -> Identity:
        offered = [*credentials.url_tokens, credentials.bearer, credentials.cookie]
        for value in offered:
            if value and hmac.compare_digest(value.encode(), self.token.encode()):
                return Identity(set_cookie=bool(credentials.url_tokens))
        raise Refusal(401, "A token is required: send 'Authorization: Bearer <token>' or open "
                           "the URL with ?token=<token> printed when the UI started.")  # fmt: skip


class AccountAccess(Access):
    """The API tokens of the metadata store (``stepwell server``).

    Args:
        store: returns the metadata store (asked on every request, so a
            changed ``STEPWELL_*`` setting is followed like the API does).
        open_until_tokens: serve without sign-in while no token has ever been
            created (only for a loopback bind).
        limiter: counts failed tokens per client address.
        clock: monotonic seconds, for how often a first token is looked for.
    """

    sign_in = True

    def __init__(
        self,
        store: Callable[[], Any],
        *,
        open_until_tokens: bool,
        limiter: FailureLimiter,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._open = open_until_tokens
        self.limiter = limiter
        self._clock = clock
        self._next_check = clock() + _RECHECK
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        """Open until a first token exists (looked for every 2 s); never open again after."""
        if not self._open:
            return False
        with self._lock:
            now = self._clock()
            if self._open and now >= self._next_check:
                self._next_check = now + _RECHECK
                if self._store().has_tokens():
                    self._open = False
                    log.info("A token was created: sign-in is required from now on.")
        return self._open

    def identify(self, credentials: Credentials) -> Identity:
        if credentials.url_tokens:
            raise url_token_refusal()
        if self.is_open:
            if credentials.forwarded:
                raise Refusal(
                    403,
                    "This server has no accounts yet, so it serves this machine only, and this "
                    "request came through a proxy. Create a token first: " + CREATE_HINT,
                )
            return OpenAccess().identify(credentials)
        via = "bearer token" if credentials.bearer else "cookie"
        secret = credentials.bearer or credentials.cookie
        if secret is None:
            raise Refusal(
                401,
                "Sign-in required: send 'Authorization: Bearer <token>', or sign in at /login. "
                "Tokens are created with: " + CREATE_HINT,
                sign_in=True,
            )
        record = self.check(secret, credentials.client, via=via)
        log.debug("%s ok: user %s, token %s, client %s", via, record.user, record.token_id,
                  credentials.client)  # fmt: skip
        return Identity(record.user, record.token_id)

    def login(self, secret: str, client: str) -> Any:
        """The token record a sign-in form's secret belongs to, or raise :class:`Refusal`."""
        record = self.check(secret, client, via="login")
        log.info("login ok: user %s, token %s, client %s", record.user, record.token_id, client)
        return record

    def peek(self, secret: str | None) -> Any:
        """The valid token of ``secret`` or ``None``, counting no failure (sign-out)."""
        return self._store().check_token(secret) if secret else None

    def check(self, secret: str, client: str, *, via: str) -> Any:
        """The valid token record of ``secret``; a refusal counts as a failure of ``client``."""
        wait = self.limiter.retry_after(client)
        if wait is not None:
            log.debug("%s from %s refused: too many failures, retry after %.0f s", via, client,
                      wait)  # fmt: skip
            raise Refusal(
                429,
                f"Too many failed sign-ins from {client}: try again in {math.ceil(wait)} s.",
                retry_after=wait,
            )
        try:
            record = self._store().check_token(secret)
        except StepwellError as exc:
            log.error("%s from %s not checked: %s", via, client, exc)
            raise Refusal(503, "The server cannot check tokens now; see its log.") from None
        if record is not None:
            return record
        count = self.limiter.record_failure(client)
        limit = self.limiter.max_failures
        blocked = f"; refused for {self.limiter.window:.0f} s" if count >= limit else ""
        log.warning("%s failed: unknown or revoked token, client %s (%d of %d failures%s)",
                    via, client, count, limit, blocked)  # fmt: skip
        raise Refusal(
            401,
            "The token is unknown or has been revoked. Ask for a new one (" + CREATE_HINT + ").",
            sign_in=via != "bearer token",
            clear_cookie=via == "cookie",
        )


def access_for_token(token: str | None) -> Access:
    """The access of ``stepwell ui``: open on loopback, or one shared token."""
    return OpenAccess() if token is None else SharedTokenAccess(token)


def url_token_refusal() -> Refusal:
    """The answer to a token sent in a URL, on a server with accounts."""
    return Refusal(
        400,
        "Tokens are not accepted in URLs (URLs end up in logs and browser history). "
        "Send 'Authorization: Bearer <token>', or sign in at /login.",
    )
