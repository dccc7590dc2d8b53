"""The API's routes: one table the router and the OpenAPI description are both built from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stepwell.ui import _api, _task_api
from stepwell.ui._params import ApiError, Query, segment


@dataclass(frozen=True)
class Route:
    """``GET <pattern>``: literal segments and ``{kind}`` placeholders (validated by kind)."""

    pattern: str
    handler: Callable[[dict[str, str], Query], Any]
    summary: str
    query: tuple[tuple[str, str, str], ...] = ()  # (name, type, description)
    html: bool = False

    @property
    def parts(self) -> list[str]:
        return self.pattern.strip("/").split("/")


_TASK = "/api/tasks/{flow}/{run}/{step}/{task}"
_ATTEMPT = ("attempt", "integer", "an attempt number (default: the latest)")

ROUTES = [
    Route("/api/flows", _api.list_flows, "Flows with runs, each with its latest run"),
    Route("/api/flows/{flow}/runs", _api.list_runs, "A page of a flow's runs, newest first", (
        ("status", "string", "running, succeeded or failed"),
        ("user", "string", "runs of this user"),
        ("tag", "string", "runs with this tag (repeat for several: all must match)"),
        ("since", "number", "runs started at or after (epoch seconds)"),
        ("until", "number", "runs started before (epoch seconds)"),
        ("limit", "integer", "page size, 1-500 (default 50)"),
        ("offset", "integer", "runs to skip"),
    )),
    Route("/api/runs/{flow}/{run}", _api.get_run,
          "A run: summary, parameters, tags, DAG with per-step counts, timeline, tasks"),
    Route("/api/runs/{flow}/{run}/code", _api.get_code,
          "The run's code package: its files and the flow file's source"),
    Route(_TASK, _task_api.get_task, "A task: attempts, exception, artifacts with previews",
          (_ATTEMPT,)),
    Route(_TASK + "/logs", _task_api.get_logs, "Log lines after line N (for live follow)", (
        ("stream", "string", "stdout or stderr"),
        ("after", "integer", "lines already read"),
        _ATTEMPT,
    )),
    Route(_TASK + "/cards", _task_api.list_cards, "The task's cards (id, type)"),
    Route(_TASK + "/cards/{index}", _task_api.get_card,
          "One card's HTML (sandboxed by CSP: embed in a sandboxed iframe)", html=True),
    Route("/api/compare", _api.compare, "Two runs side by side: parameters, artifacts, timings", (
        ("a", "string", "run pathspec Flow/run_id"),
        ("b", "string", "run pathspec Flow/run_id"),
    )),
]  # fmt: skip


def match(path: str) -> tuple[Route, dict[str, str]]:
    """The route of a raw (still percent-encoded) URL path, and its validated parameters."""
    raw = path.strip("/").split("/")
    for route in ROUTES:
        parts = route.parts
        if len(parts) != len(raw):
            continue
        if all(p.startswith("{") or p == r for p, r in zip(parts, raw, strict=True)):
            params = {
                p[1:-1]: segment(r, p[1:-1]) for p, r in zip(parts, raw, strict=True) if p[0] == "{"
            }
            return route, params
    raise ApiError(404, f"No API endpoint at {path[:200]!r}. See /api/openapi.json.")


def openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 description of every route."""
    from stepwell._version import __version__

    paths: dict[str, Any] = {}
    for route in ROUTES:
        parameters = [
            {"name": p[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
            for p in route.parts if p.startswith("{")
        ] + [
            {"name": n, "in": "query", "required": route.pattern == "/api/compare",
             "schema": {"type": t}, "description": d}
            for n, t, d in route.query
        ]  # fmt: skip
        kind = "text/html" if route.html else "application/json"
        paths[route.pattern] = {"get": {
            "summary": route.summary, "parameters": parameters,
            "responses": {
                "200": {"description": "OK", "content": {kind: {}}},
                "400": {"$ref": "#/components/responses/Error"},
                "401": {"$ref": "#/components/responses/Error"},
                "404": {"$ref": "#/components/responses/Error"},
            },
        }}  # fmt: skip
    paths["/api/openapi.json"] = {
        "get": {"summary": "This description", "responses": {"200": {"description": "OK"}}}
    }
    paths["/api/session"] = {
        "get": {
            "summary": "Who is signed in: user and token id (null when the server is open)",
            "responses": {"200": {"description": "OK"}},
        }
    }
    error = {"type": "object", "properties": {"error": {"type": "object", "properties": {
        "status": {"type": "integer"}, "message": {"type": "string"}}}}}  # fmt: skip
    return {
        "openapi": "3.1.0",
        "info": {"title": "stepwell UI API", "version": __version__},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "Error": {
                    "description": "An error",
                    "content": {"application/json": {"schema": error}},
                }
            },
        },
        "security": [{"bearer": []}, {}],
        "paths": paths,
    }
