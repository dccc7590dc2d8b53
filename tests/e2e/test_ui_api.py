"""The UI's JSON API on a real store: every endpoint, the token, path traversal, bad input."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from stepwell.testing import run_flow

FLOWS = Path(__file__).parents[1] / "flows"
TOKEN = "test-token-0123456789abcdef"


@dataclass
class UiStore:
    home: Path
    foreach: list[str]  # two ForeachFlow run ids, the second tagged "nightly"
    raises: str
    logs: str
    typed: str


@pytest.fixture(scope="module")
def ui_store(tmp_path_factory: pytest.TempPathFactory) -> UiStore:
    """A store with real runs: two foreach runs, a failed run, a run with logs, typed artifacts."""
    home = tmp_path_factory.mktemp("ui-store")

    def run(flow: str, *args: str, ok: bool = True) -> str:
        result = run_flow(FLOWS / flow, *args, home=home, env={"STEPWELL_USER": "tester"})
        assert result.ok == ok, result.stderr
        assert result.run_id is not None
        return result.run_id

    return UiStore(
        home=home,
        foreach=[run("shapes/foreach_flow.py"), run("shapes/foreach_flow.py", "--tag", "nightly")],
        raises=run("failing/raises_flow.py", ok=False),
        logs=run("failing/logs_flow.py"),
        typed=run("shapes/typed_artifacts_flow.py"),
    )


class Ui:
    """A running UI server and a tiny client for it."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.base = server.url.rstrip("/")

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, Any]:
        request = urllib.request.Request(self.base + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read(), response.headers
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), exc.headers

    def json(self, path: str, status: int = 200, **kw: Any) -> Any:
        code, body, headers = self.get(path, **kw)
        assert code == status, body[:500]
        assert headers["Content-Type"] == "application/json"
        return json.loads(body)


def start_ui(home: Path, monkeypatch: pytest.MonkeyPatch, token: str | None = None) -> Any:
    from stepwell.ui import serve

    monkeypatch.setenv("STEPWELL_HOME", str(home))
    return serve("127.0.0.1", 0, token, block=False)


@pytest.fixture
def ui(ui_store: UiStore, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ui]:
    server = start_ui(ui_store.home, monkeypatch)
    yield Ui(server)
    server.shutdown()
    server.server_close()


def task_of(ui: Ui, flow: str, run_id: str, step: str) -> dict[str, Any]:
    return ui.json(f"/api/runs/{flow}/{run_id}")["tasks"][step][0]


# -- endpoints -------------------------------------------------------------------


def test_flows_lists_each_flow_with_its_latest_run(ui: Ui, ui_store: UiStore) -> None:
    flows = {f["name"]: f for f in ui.json("/api/flows")["flows"]}
    assert set(flows) == {"ForeachFlow", "RaisesFlow", "LogsFlow", "TypedArtifactsFlow"}
    assert flows["ForeachFlow"]["latest_run"]["id"] == ui_store.foreach[1]
    assert flows["RaisesFlow"]["latest_run"]["status"] == "failed"


def test_runs_are_paginated_newest_first_and_filtered(ui: Ui, ui_store: UiStore) -> None:
    first = ui.json("/api/flows/ForeachFlow/runs?limit=1")
    assert [r["id"] for r in first["runs"]] == [ui_store.foreach[1]] and first["has_more"]
    second = ui.json("/api/flows/ForeachFlow/runs?limit=1&offset=1")
    assert [r["id"] for r in second["runs"]] == [ui_store.foreach[0]] and not second["has_more"]
    tagged = ui.json("/api/flows/ForeachFlow/runs?tag=nightly")["runs"]
    assert [r["id"] for r in tagged] == [ui_store.foreach[1]] and tagged[0]["tags"] == ["nightly"]
    assert ui.json("/api/flows/ForeachFlow/runs?status=failed")["runs"] == []
    assert len(ui.json("/api/flows/ForeachFlow/runs?user=tester&status=succeeded")["runs"]) == 2
    assert ui.json("/api/flows/ForeachFlow/runs?user=nobody")["runs"] == []


def test_run_has_its_dag_counts_timeline_and_tasks(ui: Ui, ui_store: UiStore) -> None:
    data = ui.json(f"/api/runs/ForeachFlow/{ui_store.foreach[0]}")
    assert data["run"]["status"] == "succeeded" and data["run"]["parameters"] == {}
    assert data["run"]["duration"] > 0
    steps = {s["name"]: s for s in data["dag"]["steps"]}
    assert list(steps) == ["start", "square", "join", "end"]
    assert steps["square"]["tasks"] == steps["square"]["succeeded"] == 4
    assert steps["square"]["foreach_width"] == 4 and steps["start"]["split_width"] == 4
    assert data["dag"]["edges"] == [["start", "square"], ["square", "join"], ["join", "end"]]
    assert data["timeline"]["total"] == 7 and not data["timeline"]["sampled"]
    assert all(bar[4] >= bar[3] for bar in data["timeline"]["bars"])
    assert sorted(t["index"] for t in data["tasks"]["square"]) == [0, 1, 2, 3]


def test_failed_run_shows_the_failed_step(ui: Ui, ui_store: UiStore) -> None:
    data = ui.json(f"/api/runs/RaisesFlow/{ui_store.raises}")
    assert data["run"]["status"] == "failed" and "bad value 42" in data["run"]["error"]
    steps = {s["name"]: s for s in data["dag"]["steps"]}
    assert steps["boom"]["failed"] == 1 and steps["boom"]["status"] == "failed"
    assert "end" not in steps


def test_task_has_attempts_exception_and_lineage(ui: Ui, ui_store: UiStore) -> None:
    boom = task_of(ui, "RaisesFlow", ui_store.raises, "boom")
    data = ui.json(f"/api/tasks/{boom['pathspec']}")
    assert data["task"]["status"] == "failed"
    assert "ValueError: bad value 42" in data["task"]["exception"]
    assert [a["attempt"] for a in data["attempts"]] == [0]
    assert "bad value 42" in data["attempts"][0]["exception"]
    assert len(data["parents"]) == 1 and "/middle/" in data["parents"][0]


def test_artifact_previews_value_array_and_table(ui: Ui, ui_store: UiStore) -> None:
    start = task_of(ui, "TypedArtifactsFlow", ui_store.typed, "start")
    arts = {a["name"]: a for a in ui.json(f"/api/tasks/{start['pathspec']}")["artifacts"]}
    assert arts["items"]["preview"] == {"kind": "value", "text": "[1, 2, 3]", "truncated": False}
    assert arts["base"]["preview"]["kind"] == "array"
    assert arts["base"]["preview"]["shape"] == [1000]
    assert arts["base"]["preview"]["dtype"] == "float64"
    frame = arts["frame"]["preview"]
    assert frame["kind"] == "table" and frame["columns"] == ["a", "b"]
    assert frame["shape"] == [3, 2] and frame["rows"][0] == ["1", "2"]


def test_logs_follow_from_a_line_number(ui: Ui, ui_store: UiStore) -> None:
    talk = task_of(ui, "LogsFlow", ui_store.logs, "talk")["pathspec"]
    out = ui.json(f"/api/tasks/{talk}/logs")
    assert [line[1] for line in out["lines"]] == ["out line one", "out line two", "out line three"]
    assert out["next"] == 3 and out["finished"] and out["lines"][0][0].startswith("20")
    rest = ui.json(f"/api/tasks/{talk}/logs?after=2")
    assert [line[1] for line in rest["lines"]] == ["out line three"] and rest["next"] == 3
    assert ui.json(f"/api/tasks/{talk}/logs?after=3")["lines"] == []
    err = ui.json(f"/api/tasks/{talk}/logs?stream=stderr")
    assert [line[1] for line in err["lines"]] == ["err line one"]


def test_cards_degrade_when_the_cards_package_is_missing(ui: Ui, ui_store: UiStore) -> None:
    end = task_of(ui, "ForeachFlow", ui_store.foreach[0], "end")["pathspec"]
    cards = ui.json(f"/api/tasks/{end}/cards")
    assert isinstance(cards["cards"], list)
    if not cards["available"]:
        assert cards["cards"] == []
        assert ui.json(f"/api/tasks/{end}/cards/0", 404)["error"]["status"] == 404


def test_cards_are_served_with_a_sandboxing_csp(
    ui: Ui, ui_store: UiStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys
    import types

    class FakeCard:
        id, type = "summary", "default"

        def get(self) -> str:
            return "<html><body><h1>Card!</h1></body></html>"

    fake = types.ModuleType("stepwell.cards")
    fake.get_cards = lambda pathspec: [FakeCard()]  # type: ignore[attr-defined]
    fake.live_card_path = lambda home, pathspec, name: Path(home) / "no-live" / name  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "stepwell.cards", fake)
    end = task_of(ui, "ForeachFlow", ui_store.foreach[0], "end")["pathspec"]
    listed = ui.json(f"/api/tasks/{end}/cards")
    assert listed == {
        "available": True,
        "cards": [{"index": 0, "id": "summary", "type": "default", "live": False}],
    }
    status, body, headers = ui.get(f"/api/tasks/{end}/cards/0")
    assert status == 200 and b"Card!" in body
    assert headers["Content-Type"].startswith("text/html")
    assert "sandbox" in headers["Content-Security-Policy"]
    assert "default-src 'none'" in headers["Content-Security-Policy"]


def test_compare_shows_parameters_artifacts_and_timings(ui: Ui, ui_store: UiStore) -> None:
    a, b = ui_store.foreach
    data = ui.json(f"/api/compare?a=ForeachFlow/{a}&b=ForeachFlow/{b}")
    assert data["a"]["id"] == a and data["b"]["id"] == b
    assert [s["step"] for s in data["steps"]] == ["start", "square", "join", "end"]
    assert data["steps"][1]["a"]["tasks"] == data["steps"][1]["b"]["tasks"] == 4
    rows = {r["name"]: r for r in data["artifacts"]}
    assert rows["sum_of_squares"]["state"] == "same"
    assert rows["sum_of_squares"]["a"]["preview"]["text"] == "30"


def test_compare_with_a_failed_run_explains_missing_artifacts(ui: Ui, ui_store: UiStore) -> None:
    data = ui.json(
        f"/api/compare?a=ForeachFlow/{ui_store.foreach[0]}&b=RaisesFlow/{ui_store.raises}"
    )
    assert data["artifacts"] is None and "no end task" in data["artifacts_note"]
    assert {s["step"] for s in data["steps"]} >= {"square", "boom"}


def test_openapi_describes_every_endpoint(ui: Ui) -> None:
    spec = ui.json("/api/openapi.json")
    assert spec["openapi"].startswith("3.")
    task = "/api/tasks/{flow}/{run}/{step}/{task}"
    cards = (task + "/cards", task + "/cards/{index}")
    for path in ("/api/flows", "/api/flows/{flow}/runs", "/api/runs/{flow}/{run}", task,
                 task + "/logs", *cards, "/api/compare"):  # fmt: skip
        assert "get" in spec["paths"][path]


def test_pages_are_served_with_a_csp(ui: Ui) -> None:
    for page in ("/", "/run.html", "/task.html", "/compare.html", "/static/common.js"):
        status, body, headers = ui.get(page)
        assert status == 200 and body
        assert "default-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"


# -- security and validation -----------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/tasks/..%2F..%2Fetc/passwd",
        "/api/tasks/ForeachFlow/1/start/..%2F..%2F..%2Fetc%2Fpasswd",
        "/api/tasks/ForeachFlow/..%2F..%2F/start/1/logs",
        "/api/tasks/ForeachFlow/1/..%2F..%2Fstepwell.db/1/logs",
        "/api/runs/ForeachFlow/%2e%2e",
        "/api/runs/..%2Fstepwell.db/1",
        "/static/../../pyproject.toml",
        "/static/..%2F..%2F..%2Fpyproject.toml",
        "/static/%2e%2e/_server.py",
        "/static/_server.py",
        "/../../../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/api/flows/ForeachFlow/runs%00",
    ],
)
def test_path_traversal_is_refused(ui: Ui, path: str) -> None:
    status, body, headers = ui.get(path)
    assert 400 <= status < 500
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["error"]["status"] == status
    for secret in (b"root:", b"[project]", b"SQLite", b"import ", b"def "):
        assert secret not in body


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/api/flows/ForeachFlow/runs?limit=abc", 400, "limit"),
        ("/api/flows/ForeachFlow/runs?limit=0", 400, "limit"),
        ("/api/flows/ForeachFlow/runs?limit=100000", 400, "limit"),
        ("/api/flows/ForeachFlow/runs?offset=-1", 400, "offset"),
        ("/api/flows/ForeachFlow/runs?status=done", 400, "status"),
        ("/api/flows/ForeachFlow/runs?since=yesterday", 400, "since"),
        ("/api/flows/No-Such/runs", 400, "flow"),
        ("/api/flows/NoSuchFlow/runs", 404, "NoSuchFlow"),
        ("/api/runs/ForeachFlow/999999", 404, "ForeachFlow/999999"),
        ("/api/runs/ForeachFlow/1/extra/segments/here/too", 404, "endpoint"),
        ("/api/tasks/ForeachFlow/1/nostep/1", 404, "nostep"),
        ("/api/tasks/ForeachFlow/1/start/1/logs?stream=stdin", 400, "stream"),
        ("/api/tasks/ForeachFlow/1/start/1/logs?after=x", 400, "after"),
        ("/api/tasks/ForeachFlow/1/start/1?attempt=-2", 400, "attempt"),
        ("/api/tasks/ForeachFlow/1/start/1/cards/x", 400, "index"),
        ("/api/compare?a=ForeachFlow/1", 400, "'b'"),
        ("/api/compare?a=ForeachFlow&b=ForeachFlow/1", 400, "Flow/run_id"),
        ("/api/compare?a=ForeachFlow/1&b=ForeachFlow/424242", 404, "424242"),
        ("/api/nothing", 404, "openapi"),
        ("/nothing.html", 404, "nothing"),
    ],
)
def test_bad_input_is_a_clear_4xx_json_error(ui: Ui, path: str, status: int, words: str) -> None:
    error = ui.json(path, status)["error"]
    assert error["status"] == status and words in error["message"]


def test_other_methods_are_refused(ui: Ui) -> None:
    request = urllib.request.Request(ui.base + "/api/flows", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 405


def test_a_foreign_host_header_is_refused_without_a_token(ui: Ui) -> None:
    """DNS rebinding: a page on evil.example resolving to 127.0.0.1 cannot read the API."""
    assert ui.json("/api/flows", 403, headers={"Host": "evil.example:80"})["error"]["status"] == 403
    assert ui.json("/api/flows", headers={"Host": "localhost:1234"})["flows"]


# -- the token -------------------------------------------------------------------


@pytest.fixture
def ui_with_token(ui_store: UiStore, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ui]:
    server = start_ui(ui_store.home, monkeypatch, token=TOKEN)
    yield Ui(server)
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("path", ["/", "/run.html", "/static/app.css", "/api/flows",
                                  "/api/openapi.json", "/api/runs/ForeachFlow/1"])  # fmt: skip
def test_every_request_without_the_token_gets_401(ui_with_token: Ui, path: str) -> None:
    assert ui_with_token.json(path, 401)["error"]["status"] == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert ui_with_token.json(path, 401, headers=wrong)["error"]["status"] == 401
    sep = "&" if "?" in path else "?"
    assert ui_with_token.get(f"{path}{sep}token=wrong")[0] == 401


def test_the_token_is_accepted_as_bearer_query_or_cookie(ui_with_token: Ui) -> None:
    ui = ui_with_token
    assert ui.json("/api/flows", headers={"Authorization": f"Bearer {TOKEN}"})["flows"]
    assert ui.json(f"/api/flows?token={TOKEN}")["flows"]
    status, _, headers = ui.get(f"/?token={TOKEN}")
    cookie = headers["Set-Cookie"].split(";")[0]
    assert status == 200 and cookie == f"stepwell_token={TOKEN}"
    assert "HttpOnly" in headers["Set-Cookie"]
    assert ui.json("/api/flows", headers={"Cookie": cookie})["flows"]


def test_a_non_loopback_bind_generates_a_token(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from stepwell.ui import make_server

    server = make_server("0.0.0.0", 0, home=tmp_path)
    try:
        assert server.token and len(server.token) >= 24
    finally:
        server.server_close()
    local = make_server("127.0.0.1", 0, home=tmp_path)
    try:
        assert local.token is None
    finally:
        local.server_close()
    with pytest.raises(ValueError, match="at least 16"):
        make_server("127.0.0.1", 0, token="short", home=tmp_path)


def test_serve_prints_the_url_with_the_token(
    ui_store: UiStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_ui(ui_store.home, monkeypatch, token=TOKEN)
    try:
        assert f"{server.url}?token={TOKEN}" in capsys.readouterr().err
    finally:
        server.shutdown()
        server.server_close()


def test_a_runs_code_package_is_served(ui: Ui, ui_store: UiStore) -> None:
    code = ui.json(f"/api/runs/ForeachFlow/{ui_store.foreach[0]}/code")
    assert code["info"]["flow_name"] == "ForeachFlow"
    assert code["info"]["script"] in code["files"]
    assert "class ForeachFlow" in code["flowspec"]
    assert ui.json("/api/runs/ForeachFlow/999999/code", 404)["error"]["status"] == 404
