"""The HTTP server: authentication, routing to the API, the static pages, security headers."""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import os
import secrets
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from stepwell.ui._params import ApiError, Query

log = logging.getLogger("stepwell.ui")

STATIC_DIR = Path(__file__).parent / "static"
_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
          ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}  # fmt: skip
COOKIE = "stepwell_token"
PAGE_CSP = ("default-src 'self'; img-src 'self' data:; frame-src 'self'; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")  # fmt: skip
CARD_CSP = (
    # Vega compiles chart expressions with Function(); the card runs in an opaque-origin
    # sandbox (no same-origin, no network: default-src 'none'), so that stays contained.
    "sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src data:; font-src data:; frame-ancestors 'self'"
)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine only."""
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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
    """The UI's HTTP server; ``token`` is ``None`` when no token is required."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], token: str | None) -> None:
        self.token = token
        self.static = _static_files()
        super().__init__(address, Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{name}]" if ":" in name else name
        return f"http://{shown}:{port}/"

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


class Handler(BaseHTTPRequestHandler):
    server: UiServer
    server_version = "stepwell-ui"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        try:
            self._get()
        except Exception:  # a bug: report it without details, keep serving
            log.exception("Internal error serving %s", self.path[:200])
            self._error(500, "Internal error in the stepwell UI; see the server's log.")

    def do_HEAD(self) -> None:
        self._error(405, "Only GET is supported.")

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD

    def _get(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True, max_num_fields=50)
        set_cookie = self._authorize(query)
        if set_cookie is None:
            return
        if url.path.startswith("/api/"):
            self._api(url.path, Query(query))
        else:
            self._static(url.path, set_cookie)

    def _authorize(self, query: dict[str, list[str]]) -> bool | None:
        """True: allowed via ``?token=`` (set the cookie); False: allowed; None: refused."""
        token = self.server.token
        if token is None:
            host = _host_name(self.headers.get("Host") or "")
            if host and not is_loopback(host):  # DNS rebinding: only loopback names
                self._error(403, f"Host {host!r} refused: this UI serves loopback only.")
                return None
            return False
        offered = [v for v in query.get("token", []) if v]
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            offered.append(auth[7:].strip())
        offered += [c.split("=", 1)[1] for c in self._cookies() if c.startswith(COOKIE + "=")]
        for value in offered:
            if hmac.compare_digest(value.encode(), token.encode()):
                return bool(query.get("token"))
        self._error(401, "A token is required: send 'Authorization: Bearer <token>' or open "
                         "the URL with ?token=<token> printed when the UI started.")  # fmt: skip
        return None

    def _cookies(self) -> list[str]:
        return [c.strip() for c in (self.headers.get("Cookie") or "").split(";")]

    def _api(self, path: str, query: Query) -> None:
        from stepwell.exceptions import NotFoundError, StepwellError
        from stepwell.ui._routes import match, openapi

        try:
            if path == "/api/openapi.json":
                self._json(200, openapi())
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

    def _static(self, path: str, set_cookie: bool) -> None:
        found = self.server.static.get(path)
        if found is None:
            self._error(404, f"No page at {path[:200]!r}.")
            return
        file, content_type = found
        headers = {"Content-Security-Policy": PAGE_CSP}
        if set_cookie and self.server.token:
            headers["Set-Cookie"] = (
                f"{COOKIE}={self.server.token}; HttpOnly; SameSite=Strict; Path=/"
            )
        self._send(200, content_type, file.read_bytes(), headers)

    def _json(self, status: int, value: Any) -> None:
        body = json.dumps(value, default=str, allow_nan=False).encode()
        self._send(status, "application/json", body, {})

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": {"status": status, "message": message}})

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


def _host_name(header: str) -> str:
    """The host of a Host header, without the port: ``[::1]:8080`` -> ``::1``."""
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header
