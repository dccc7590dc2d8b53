"""The HTTP server: access, sign-in, routing to the API, the static pages, security headers.

Who may use the server is decided by its :class:`~stepwell.ui._access.Access`
(open on loopback, one shared token, or accounts); this module turns the
decision into responses. The API is read-only: ``GET`` only, plus ``POST``
to ``/login`` and ``/logout`` when the server has accounts. The log never
holds a secret: request lines are logged with tokens masked.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import secrets
import socket
import ssl
import sys
import threading
from collections.abc import Callable
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, parse_qs, quote, urlsplit

from stepwell.exceptions import ConfigError
from stepwell.ui._access import (
    COOKIE,
    Access,
    AccountAccess,
    Credentials,
    Identity,
    Refusal,
    access_for_token,
    is_loopback,
    url_token_refusal,
)
from stepwell.ui._login import MAX_FORM, expired_cookie, login_page, parse_form, safe_next
from stepwell.ui._login import session_cookie as signed_in_cookie
from stepwell.ui._params import ApiError, Query

log = logging.getLogger("stepwell.ui")

__all__ = ["Handler", "UiServer", "is_loopback", "make_server", "redact", "serve"]

STATIC_DIR = Path(__file__).parent / "static"
_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
          ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}  # fmt: skip
PAGE_CSP = ("default-src 'self'; img-src 'self' data:; frame-src 'self'; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")  # fmt: skip
CARD_CSP = (
    # Vega compiles chart expressions with Function(); the card runs in an opaque-origin
    # sandbox (no same-origin, no network: default-src 'none'), so that stays contained.
    "sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src data:; font-src data:; frame-ancestors 'self'"
)
PUBLIC = ("/login", "/static/app.css")  # served without sign-in on a server with accounts
HANDSHAKE_TIMEOUT = 10.0
_SECRETS = re.compile(r"(?i)(token=|bearer\s+)[^\s&;\"']+|swt_[A-Za-z0-9_\-]+")


def redact(text: str) -> str:
    """``text`` with every token masked (``?token=``, bearer values, ``swt_...``)."""
    return _SECRETS.sub(lambda m: (m.group(1) or "swt_") + "***", text)


def _static_files() -> dict[str, tuple[Path, str]]:
    """URL path -> (file, content type), fixed at start-up: URLs never become paths."""
    files = {}
    for path in sorted(STATIC_DIR.iterdir()):
        if path.is_file() and path.suffix in _TYPES:
            files[f"/static/{path.name}"] = (path, _TYPES[path.suffix])
            if path.suffix == ".html":
                files[f"/{path.name}"] = files[f"/static/{path.name}"]
    files["/"] = files["/index.html"]
    return files


class UiServer(ThreadingHTTPServer):
    """The UI's HTTP server.

    ``token`` is the shared token of ``stepwell ui`` (``None``: none required);
    ``access`` overrides who may use it (``stepwell server``: accounts);
    ``tls`` serves HTTPS (each connection's handshake runs in its own thread).
    """

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        token: str | None = None,
        *,
        access: Access | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.token = token
        self.access = access or access_for_token(token)
        self.tls = tls
        self.static = _static_files()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        try:
            super().__init__(address, Handler)
        except OSError as exc:
            host, port = address[:2]
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"Port {port} on {host} is already in use (another stepwell ui, or another "
                    "server). Pass --port with a free port, or --port 0 to let the system "
                    "pick one.",
                    setting="port",
                    value=port,
                ) from None
            if exc.errno in (errno.EADDRNOTAVAIL, errno.EACCES):
                raise ConfigError(
                    f"Cannot listen on {host}:{port}: {exc.strerror}. Check --host (an address "
                    "of this machine) and --port (below 1024 needs privileges).",
                    setting="host",
                    value=host,
                ) from None
            raise

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{name}]" if ":" in name else name
        return f"{'https' if self.tls else 'http'}://{shown}:{port}/"

    def start_in_thread(self) -> threading.Thread:
        """Serve from a daemon thread (for tests and embedding); stop with ``shutdown()``."""
        thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="stepwell-ui",
            daemon=True,
        )
        thread.start()
        return thread

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(HANDSHAKE_TIMEOUT)
        try:
            secure = self.tls.wrap_socket(request, server_side=True)
        except OSError as exc:  # ssl.SSLError too: a plain-HTTP client, a bad certificate...
            log.debug("TLS handshake with %s failed: %s", client_address[0], exc)
            return
        try:
            super().finish_request(secure, client_address)
        finally:
            secure.close()


class Handler(BaseHTTPRequestHandler):
    server: UiServer
    server_version = "stepwell-ui"
    sys_version = ""
    timeout = 60  # seconds a connection may stay silent
    identity = Identity()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), redact(format % args))

    # -- methods ----------------------------------------------------------------

    def do_GET(self) -> None:
        self._guarded(self._get)

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        if self.server.access.sign_in and path in ("/login", "/logout"):
            self._guarded(self._login if path == "/login" else self._logout)
        else:
            self._refuse_method()

    def do_HEAD(self) -> None:
        self._refuse_method()

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD

    def _refuse_method(self) -> None:
        if self.server.access.sign_in:
            self._error(405, "The API is read-only: only GET is supported "
                             "(and POST to /login and /logout).")  # fmt: skip
        else:
            self._error(405, "Only GET is supported.")

    def _guarded(self, serve: Callable[[], None]) -> None:
        try:
            serve()
        except Exception:  # a bug: report it without details, keep serving
            log.exception("Internal error serving %s %s", self.command, redact(self.path[:200]))
            self._error(500, "Internal error in the stepwell UI; see the server's log.")

    # -- GET ----------------------------------------------------------------------

    def _get(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True, max_num_fields=50)
        access = self.server.access
        if access.sign_in and url.path in PUBLIC:
            self._public(url, query)
            return
        try:
            self.identity = access.identify(self._credentials(query))
        except Refusal as refusal:
            self._refused(refusal, url, query)
            return
        if url.path.startswith("/api/"):
            self._api(url.path, Query(query))
        else:
            self._static(url.path)

    def _credentials(self, query: dict[str, list[str]]) -> Credentials:
        return Credentials.of(self.headers, self.client_address[0], query)

    def _public(self, url: SplitResult, query: dict[str, list[str]]) -> None:
        if url.path == "/login":
            next_path = safe_next(query.get("next", ["/"])[0])
            if self.server.access.is_open:  # nothing to sign in to
                self._redirect(next_path)
            else:
                self._page(200, login_page(next_path=next_path))
        else:
            file, content_type = self.server.static[url.path]
            self._send(200, content_type, file.read_bytes(), {})

    def _refused(self, refusal: Refusal, url: SplitResult, query: dict[str, list[str]]) -> None:
        headers: dict[str, str] = {}
        if refusal.retry_after is not None:
            headers["Retry-After"] = str(refusal.retry_after)
        if refusal.clear_cookie:
            headers["Set-Cookie"] = expired_cookie()
        if refusal.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="stepwell"'
        is_page = url.path == "/" or url.path.endswith(".html")
        here = url.path if "token" in query else url.path + (f"?{url.query}" if url.query else "")
        access = self.server.access
        if is_page and access.sign_in and not access.is_open:
            if refusal.sign_in:  # a browser opening a page: send it to the sign-in page
                self._redirect("/login?next=" + quote(safe_next(here), safe=""), headers)
            else:
                page = login_page(message=refusal.message, next_path=here)
                self._page(refusal.status, page, headers)
            return
        self._error(refusal.status, refusal.message, headers)

    def _api(self, path: str, query: Query) -> None:
        from stepwell.exceptions import NotFoundError, StepwellError
        from stepwell.ui._routes import match, openapi

        try:
            if path == "/api/openapi.json":
                self._json(200, openapi())
                return
            if path == "/api/session":
                self._json(200, self._session())
                return
            route, params = match(path)
            result = route.handler(params, query)
        except ApiError as exc:
            self._error(exc.status, exc.message)
            return
        except NotFoundError as exc:
            self._error(404, str(exc))
            return
        except (StepwellError, ValueError) as exc:
            self._error(400, str(exc))
            return
        if route.html:
            content_type, body = result
            self._send(200, content_type, body, {"Content-Security-Policy": CARD_CSP})
        else:
            self._json(200, result)

    def _session(self) -> dict[str, Any]:
        user = self.identity.user
        return {
            "user": user,
            "token_id": self.identity.token_id,
            "can_sign_out": self.server.access.sign_in and user is not None,
        }

    def _static(self, path: str) -> None:
        found = self.server.static.get(path)
        if found is None:
            self._error(404, f"No page at {path[:200]!r}.")
            return
        file, content_type = found
        headers = {"Content-Security-Policy": PAGE_CSP}
        if self.identity.set_cookie and self.server.token:  # stepwell ui: ?token= -> cookie
            token = self.server.token
            headers["Set-Cookie"] = f"{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/"
        self._send(200, content_type, file.read_bytes(), headers)

    # -- POST /login, /logout -------------------------------------------------------

    def _login(self) -> None:
        access = self.server.access
        assert isinstance(access, AccountAccess)
        if "token" in parse_qs(urlsplit(self.path).query):
            self._error(400, url_token_refusal().message)
            return
        try:
            form = parse_form(self._body(form=True))
        except ValueError as exc:
            self._page(400, login_page(message=str(exc)))
            return
        secret, next_path = form.get("token", "").strip(), safe_next(form.get("next"))
        if access.is_open:
            self._redirect(next_path)
        elif not secret:
            self._page(400, login_page(message="Enter your API token.", next_path=next_path))
        else:
            try:
                access.login(secret, self.client_address[0])
            except Refusal as refusal:
                headers = {"Retry-After": str(refusal.retry_after)} if refusal.retry_after else {}
                page = login_page(message=refusal.message, next_path=next_path)
                self._page(refusal.status, page, headers)
                return
            self._redirect(next_path, {"Set-Cookie": signed_in_cookie(secret)})

    def _logout(self) -> None:
        access = self.server.access
        assert isinstance(access, AccountAccess)
        with suppress(ValueError):  # the body is not needed: drain what is allowed
            self._body(form=False)
        record = access.peek(self._credentials({}).cookie)
        who = f"user {record.user}, token {record.token_id}" if record else "no valid cookie"
        log.info("logout: %s, client %s", who, self.client_address[0])
        self._redirect("/login", {"Set-Cookie": expired_cookie()})

    def _body(self, *, form: bool) -> bytes:
        """The request's body (small, and a form if ``form``), or ValueError saying why not."""
        kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if form and kind != "application/x-www-form-urlencoded":
            raise ValueError("Sign in with the form: application/x-www-form-urlencoded.")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise ValueError("Invalid Content-Length.") from None
        if not 0 <= length <= MAX_FORM:
            raise ValueError(f"The form is too large ({length} bytes; at most {MAX_FORM}).")
        return self.rfile.read(length) if length else b""

    # -- responses ----------------------------------------------------------------------

    def _redirect(self, location: str, headers: dict[str, str] | None = None) -> None:
        self._send(303, "text/plain; charset=utf-8", b"", {"Location": location, **(headers or {})})

    def _page(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        headers = {"Content-Security-Policy": PAGE_CSP, **(headers or {})}
        self._send(status, "text/html; charset=utf-8", body, headers)

    def _json(self, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(value, default=str, allow_nan=False).encode()
        self._send(status, "application/json", body, headers or {})

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        self._json(status, {"error": {"status": status, "message": message}}, headers)

    def _send(self, status: int, content_type: str, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-store")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def make_server(
    host: str = "127.0.0.1", port: int = 0, token: str | None = None,
    home: str | os.PathLike[str] | None = None,
) -> UiServer:  # fmt: skip
    """Build the UI server, bound but not serving; reads every run of the store (no namespace).

    A token is required when ``host`` is not a loopback address: the given one,
    or a new random one (``server.token``). ``home`` sets ``STEPWELL_HOME`` for
    this process (the store shown).
    """
    from stepwell.client import namespace

    if home is not None:
        os.environ["STEPWELL_HOME"] = str(home)
    if token is not None and len(token) < 16:
        raise ValueError("The UI token must be at least 16 characters long.")
    if token is None and not is_loopback(host):
        token = secrets.token_urlsafe(24)
    namespace(None)
    return UiServer((host, port), token)


def serve(
    host: str = "127.0.0.1", port: int = 0, token: str | None = None,
    home: str | os.PathLike[str] | None = None, *, block: bool = True,
) -> UiServer:  # fmt: skip
    """Start the UI: print its URL (with the token, if any) and serve.

    With ``block=True`` (the CLI) serve until Ctrl-C, then close; with
    ``block=False`` serve from a daemon thread and return at once (tests:
    ``serve(port=0, block=False)`` then ``server.shutdown()``).
    """
    server = make_server(host, port, token, home)
    url = server.url + (f"?token={server.token}" if server.token else "")
    print(f"stepwell UI: {url}", file=sys.stderr, flush=True)
    if not block:
        server.start_in_thread()
        return server
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return server
