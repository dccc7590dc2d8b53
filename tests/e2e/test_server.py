"""`stepwell server` on a store with real runs: tokens, sign-in, the rate limit, TLS, the log."""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
import test_ui_api
from test_ui_api import UiStore

from stepwell.exceptions import ConfigError

ui_store = test_ui_api.ui_store  # the shared store fixture: real runs of five flows


@dataclass
class Reply:
    status: int
    body: bytes
    headers: http.client.HTTPMessage

    def json(self) -> Any:
        assert self.headers["Content-Type"] == "application/json", self.body[:300]
        return json.loads(self.body)


class Client:
    """HTTP to the server with no redirects followed and no cookie jar: every header is explicit."""

    def __init__(self, url: str, *, source: str = "", tls: ssl.SSLContext | None = None) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "", parts.port or 0
        self.source, self.tls = source, tls

    def request(self, path: str, *, method: str = "GET", headers: dict[str, str] | None = None,
                form: dict[str, str] | None = None) -> Reply:  # fmt: skip
        source = (self.source, 0) if self.source else None
        if self.tls is not None:
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                self.host, self.port, context=self.tls, timeout=30, source_address=source
            )
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=30,
                                              source_address=source)  # fmt: skip
        headers = dict(headers or {})
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return Reply(response.status, response.read(), response.headers)
        finally:
            conn.close()

    def get(self, path: str, secret: str | None = None, **kw: Any) -> Reply:
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        return self.request(path, headers={**headers, **kw.pop("headers", {})}, **kw)

    def login(self, secret: str, next_path: str = "/") -> Reply:
        return self.request("/login", method="POST", form={"token": secret, "next": next_path})


def cookie_of(reply: Reply) -> str:
    """The ``name=value`` the server set, as a browser would send it back."""
    return reply.headers["Set-Cookie"].split(";")[0]


@dataclass
class Team:
    server: Any
    client: Client
    secret: str  # ada's token
    token_id: str
    store: Any


def start(monkeypatch: pytest.MonkeyPatch, home: Path, host: str = "127.0.0.1", **kw: Any) -> Any:
    from stepwell.ui import make_team_server

    monkeypatch.setenv("STEPWELL_HOME", str(home))
    server = make_team_server(host, 0, **kw)
    server.start_in_thread()
    return server


@pytest.fixture
def team(ui_store: UiStore, monkeypatch: pytest.MonkeyPatch) -> Iterator[Team]:
    from stepwell.metadata import SqliteMetadataStore

    store = SqliteMetadataStore(ui_store.home / "stepwell.db")
    record, secret = store.new_token("ada", note="e2e")
    server = start(monkeypatch, ui_store.home)
    yield Team(server, Client(server.url), secret, record.token_id, store)
    server.shutdown()
    server.server_close()


def run_of(team: Team, flow: str, run_id: str) -> dict[str, Any]:
    return team.client.get(f"/api/runs/{flow}/{run_id}", team.secret).json()


# -- who gets in -------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/api/flows", "/api/runs/ForeachFlow/1", "/api/openapi.json", "/api/session",
     "/static/common.js", "/static/runs.js"],
)  # fmt: skip
def test_without_a_token_every_api_call_and_script_gets_401(team: Team, path: str) -> None:
    reply = team.client.get(path)
    assert reply.status == 401 and reply.json()["error"]["status"] == 401
    assert "sign in at /login" in reply.json()["error"]["message"]
    assert reply.headers["WWW-Authenticate"] == 'Bearer realm="stepwell"'
    assert team.client.get(path, "swt_" + "x" * 43).status == 401


@pytest.mark.parametrize("path", ["/", "/run.html?flow=ForeachFlow&run=1", "/task.html"])
def test_without_a_token_a_page_sends_the_browser_to_sign_in(team: Team, path: str) -> None:
    reply = team.client.get(path)
    assert reply.status == 303
    location = reply.headers["Location"]
    assert location.startswith("/login?next=")
    page = team.client.get(location)
    assert page.status == 200 and b'action="/login"' in page.body and b"API token" in page.body
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]


def test_a_bearer_token_opens_every_api_route(team: Team, ui_store: UiStore) -> None:
    from stepwell.ui._routes import ROUTES

    a, b = ui_store.foreach
    end = run_of(team, "ForeachFlow", a)["tasks"]["end"][0]["pathspec"]
    task = f"/api/tasks/{end}"
    urls = {
        "/api/flows": "/api/flows",
        "/api/flows/{flow}/runs": "/api/flows/ForeachFlow/runs?limit=1",
        "/api/runs/{flow}/{run}": f"/api/runs/ForeachFlow/{a}",
        "/api/runs/{flow}/{run}/code": f"/api/runs/ForeachFlow/{a}/code",
        "/api/tasks/{flow}/{run}/{step}/{task}": task,
        "/api/tasks/{flow}/{run}/{step}/{task}/logs": task + "/logs",
        "/api/tasks/{flow}/{run}/{step}/{task}/cards": task + "/cards",
        "/api/tasks/{flow}/{run}/{step}/{task}/cards/{index}": task + "/cards/0",
        "/api/compare": f"/api/compare?a=ForeachFlow/{a}&b=ForeachFlow/{b}",
    }
    assert set(urls) == {route.pattern for route in ROUTES}  # a new route must be added here
    for pattern, url in urls.items():
        reply = team.client.get(url, team.secret)
        if pattern.endswith("{index}"):  # ForeachFlow has no card: found through auth, then 404
            assert reply.status == 404 and "card" in reply.json()["error"]["message"].lower()
        else:
            assert reply.status == 200, (url, reply.body[:300])
    flows = {f["name"] for f in team.client.get("/api/flows", team.secret).json()["flows"]}
    assert flows == {"ForeachFlow", "RaisesFlow", "LogsFlow", "TypedArtifactsFlow"}
    assert "/api/session" in team.client.get("/api/openapi.json", team.secret).json()["paths"]
    for page in ("/", "/run.html", "/task.html", "/compare.html", "/static/app.css"):
        assert team.client.get(page, team.secret).status == 200


def test_the_session_names_the_signed_in_user(team: Team) -> None:
    session = team.client.get("/api/session", team.secret).json()
    assert session == {"user": "ada", "token_id": team.token_id, "can_sign_out": True}


def test_a_revoked_token_is_refused_at_once(team: Team) -> None:
    assert team.client.get("/api/flows", team.secret).status == 200
    team.store.revoke_token(team.token_id)
    reply = team.client.get("/api/flows", team.secret)
    assert reply.status == 401 and "revoked" in reply.json()["error"]["message"]
    assert team.client.login(team.secret).status == 401


def test_a_token_in_the_url_is_never_accepted(team: Team) -> None:
    for path in (f"/api/flows?token={team.secret}", f"/?token={team.secret}"):
        reply = team.client.get(path)
        assert reply.status == 400 and b"not accepted in URLs" in reply.body
        assert team.secret.encode() not in reply.body


# -- signing in and out ------------------------------------------------------------


def test_sign_in_sets_a_secure_cookie_that_alone_opens_pages_and_api(team: Team) -> None:
    reply = team.client.login(team.secret, next_path="/run.html?flow=ForeachFlow&run=1")
    assert reply.status == 303 and reply.headers["Location"] == "/run.html?flow=ForeachFlow&run=1"
    attributes = [a.strip() for a in reply.headers["Set-Cookie"].split(";")]
    assert attributes[0] == f"stepwell_token={team.secret}"
    assert set(attributes[1:]) == {"HttpOnly", "Secure", "SameSite=Strict", "Path=/"}
    cookie = {"Cookie": cookie_of(reply)}
    page = team.client.get("/run.html", headers=cookie)
    assert page.status == 200 and b"<title>Run" in page.body
    assert team.client.get("/api/flows", headers=cookie).json()["flows"]
    assert team.client.get("/api/session", headers=cookie).json()["user"] == "ada"


def test_sign_in_goes_only_to_a_page_of_this_server(team: Team) -> None:
    reply = team.client.login(team.secret, next_path="//evil.example/steal")
    assert reply.status == 303 and reply.headers["Location"] == "/"


def test_a_wrong_token_shows_the_sign_in_page_again(team: Team) -> None:
    reply = team.client.login("swt_" + "w" * 43, next_path="/compare.html")
    assert reply.status == 401 and "Set-Cookie" not in reply.headers
    assert b"unknown or has been revoked" in reply.body
    assert b'name="next" value="/compare.html"' in reply.body
    empty = team.client.login("")
    assert empty.status == 400 and b"Enter your API token" in empty.body


def test_sign_out_clears_the_cookie(team: Team) -> None:
    cookie = {"Cookie": cookie_of(team.client.login(team.secret))}
    reply = team.client.request("/logout", method="POST", headers=cookie)
    assert reply.status == 303 and reply.headers["Location"] == "/login"
    attributes = [a.strip() for a in reply.headers["Set-Cookie"].split(";")]
    assert attributes[0] == "stepwell_token=" and "Max-Age=0" in attributes
    assert team.client.get("/api/flows", headers={"Cookie": "stepwell_token="}).status == 401


def test_a_stale_cookie_is_dropped_and_the_browser_sent_to_sign_in(team: Team) -> None:
    cookie = {"Cookie": cookie_of(team.client.login(team.secret))}
    team.store.revoke_token(team.token_id)
    reply = team.client.get("/task.html", headers=cookie)
    assert reply.status == 303 and reply.headers["Location"].startswith("/login?next=")
    assert "Max-Age=0" in reply.headers["Set-Cookie"]


def test_failures_are_rate_limited_per_client_address(team: Team) -> None:
    wrong = "swt_" + "w" * 43
    for _ in range(5):
        assert team.client.get("/api/flows", wrong).status == 401
    limited = team.client.get("/api/flows", team.secret)  # even the right token, for a while
    assert limited.status == 429 and 0 < int(limited.headers["Retry-After"]) <= 60
    assert "Too many failed sign-ins" in limited.json()["error"]["message"]
    login = team.client.login(team.secret)
    assert login.status == 429 and "Retry-After" in login.headers
    assert "Set-Cookie" not in login.headers
    other = Client(team.server.url, source="127.0.0.2")  # another address counts apart
    assert other.get("/api/flows", team.secret).status == 200


def test_the_limit_lifts_when_the_window_has_passed(
    ui_store: UiStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stepwell.metadata import SqliteMetadataStore
    from stepwell.ui._ratelimit import FailureLimiter

    now = [0.0]
    _, secret = SqliteMetadataStore(ui_store.home / "stepwell.db").new_token("bob")
    limiter = FailureLimiter(max_failures=2, window=60, clock=lambda: now[0])
    server = start(monkeypatch, ui_store.home, limiter=limiter)
    try:
        client = Client(server.url)
        for _ in range(2):
            assert client.login("swt_" + "w" * 43).status == 401
        assert client.get("/api/flows", secret).status == 429
        now[0] += 60
        assert client.get("/api/flows", secret).status == 200
    finally:
        server.shutdown()
        server.server_close()


# -- read-only ----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
@pytest.mark.parametrize("path", ["/api/flows", "/api/runs/ForeachFlow/1", "/"])
def test_the_api_is_read_only(team: Team, method: str, path: str) -> None:
    reply = team.client.request(path, method=method,
                                headers={"Authorization": f"Bearer {team.secret}"})  # fmt: skip
    assert reply.status == 405
    if method != "HEAD":
        assert "read-only" in reply.json()["error"]["message"]


# -- the log ------------------------------------------------------------------------


def test_no_secret_ever_reaches_the_log(team: Team, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="stepwell.ui")
    wrong = "swt_" + "w" * 43
    c = team.client
    c.get("/api/flows", team.secret)
    c.get("/api/flows", wrong)
    c.get(f"/api/flows?token={team.secret}")
    c.get(f"/run.html?flow=X&token={team.secret}")
    c.login(wrong)
    cookie = {"Cookie": cookie_of(c.login(team.secret))}
    c.get("/", headers=cookie)
    c.get("/api/session", headers={**cookie, "Authorization": f"Bearer {team.secret}"})
    c.request("/logout", method="POST", headers=cookie)
    text = caplog.text
    assert f"login ok: user ada, token {team.token_id}, client 127.0.0.1" in text
    assert "login failed: unknown or revoked token, client 127.0.0.1" in text
    assert "bearer token failed: unknown or revoked token, client 127.0.0.1" in text
    assert f"logout: user ada, token {team.token_id}, client 127.0.0.1" in text
    assert "GET /api/flows?token=*** HTTP" in text  # request lines are logged, masked
    for secret in (team.secret, wrong):
        assert secret not in text and secret[4:20] not in text


# -- open on loopback, refused beyond it ----------------------------------------------


def test_on_loopback_without_any_token_it_is_open_like_stepwell_ui(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start(monkeypatch, tmp_path / "empty-store")
    try:
        client = Client(server.url)
        assert client.get("/api/flows").json() == {"flows": []}
        assert client.get("/").status == 200
        assert client.get("/api/session").json()["user"] is None
        assert client.get("/login").headers["Location"] == "/"
        refused = client.get("/api/flows", headers={"Host": "evil.example"})
        assert refused.status == 403 and "loopback only" in refused.json()["error"]["message"]
        proxied = client.get("/api/flows", headers={"X-Forwarded-For": "203.0.113.9"})
        assert proxied.status == 403 and "token create" in proxied.json()["error"]["message"]
    finally:
        server.shutdown()
        server.server_close()


def test_beyond_loopback_it_starts_only_once_a_token_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from stepwell.client._backend import get_backend
    from stepwell.ui import make_team_server, serve_team

    monkeypatch.setenv("STEPWELL_HOME", str(tmp_path / "team-store"))
    with pytest.raises(ConfigError, match="stepwell server token create --user NAME"):
        make_team_server("0.0.0.0", 0)
    get_backend().metadata.new_token("ada")
    caplog.set_level(logging.INFO, logger="stepwell.ui")
    server = serve_team("0.0.0.0", 0, block=False)
    try:
        assert "sign-in required (1 active token(s))" in caplog.text
        assert "over plain HTTP" in caplog.text
        client = Client(f"http://127.0.0.1:{server.server_address[1]}/")
        assert client.get("/api/flows").status == 401
    finally:
        server.shutdown()
        server.server_close()


# -- TLS ----------------------------------------------------------------------------


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    import datetime
    import ipaddress

    pytest.importorskip("cryptography")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    return cert_file, key_file


def test_https_with_a_certificate_and_key(
    team: Team, ui_store: UiStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = self_signed(tmp_path)
    server = start(monkeypatch, ui_store.home, tls_cert=cert, tls_key=key)
    try:
        assert server.url.startswith("https://127.0.0.1:")
        trusted = ssl.create_default_context(cafile=str(cert))
        client = Client(server.url, tls=trusted)
        assert client.get("/api/flows", team.secret).status == 200
        assert client.get("/api/flows").status == 401
        with pytest.raises((ssl.SSLError, ConnectionError, http.client.HTTPException)):
            Client(server.url, tls=ssl.create_default_context()).get("/api/flows")  # untrusted
        plain = Client(server.url.replace("https", "http"))
        with pytest.raises((ConnectionError, http.client.HTTPException)):
            plain.get("/api/flows", team.secret)  # plain HTTP gets no answer
        assert client.get("/api/session", team.secret).json()["user"] == "ada"  # still serving
    finally:
        server.shutdown()
        server.server_close()


# -- the process ----------------------------------------------------------------------


def test_the_server_process_logs_decisions_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    from stepwell.metadata import SqliteMetadataStore

    home = tmp_path / "process-store"
    record, secret = SqliteMetadataStore(home / "stepwell.db").new_token("grace")
    env = {**os.environ, "STEPWELL_HOME": str(home)}
    process = subprocess.Popen(
        [sys.executable, "-m", "stepwell.cli", "server", "--port", "0"],
        env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        first = process.stderr.readline()
        found = re.search(r"stepwell server: (http://127\.0\.0\.1:\d+/)", first)
        assert found, first
        client = Client(found.group(1))
        deadline = time.monotonic() + 20
        while True:  # the URL is printed just before serving starts
            try:
                assert client.login(secret).status == 303
                break
            except ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert client.get("/api/flows", "swt_" + "w" * 43).status == 401
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    log = first + err
    assert f"login ok: user grace, token {record.token_id}, client 127.0.0.1" in log
    assert "bearer token failed" in log
    assert "SIGTERM: stopping." in log and log.rstrip().endswith("Stopped.")
    assert secret not in log and "Traceback" not in log
