"""What started an orchestrated run, as the one-task command is told it: ``current.trigger``.

An orchestrator passes the same values to every task of a run: ``--trigger``
(the whole ``{"events": [...]}``, as ``stepwell scheduler`` records it) or one
``--trigger-event`` per event, each the body posted to the events webhook
(``{"name": ..., "payload": {...}}``; an empty one is an event that did not
come). A ``stepwell.finished.*`` body naming a run is that run:
``current.trigger.run``.
"""

from __future__ import annotations

import json
from typing import Any

from stepwell.exceptions import ConfigError


def trigger_from(text: str | None, bodies: tuple[str, ...] = ()) -> dict[str, Any] | None:
    """``--trigger`` and ``--trigger-event``s as one ``current.trigger``; None for neither."""
    events = [_event(body) for body in bodies if body.strip()]
    given = _trigger_json(text)
    if given is not None:
        events = [*given["events"], *events]
    return {"events": events} if events else None


def _event(text: str) -> dict[str, Any]:
    """An event body (``{"name", "payload"}``, optionally ``type``, ``id``, ``timestamp``).

    A run's finish (``stepwell.finished.*``, its payload naming the run) is a ``run``
    event: ``current.trigger.run`` is that run.
    """
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"--trigger-event is not valid JSON ({exc.msg}): {text[:200]!r}"
        ) from None
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        raise ConfigError(
            f'--trigger-event must be an event body {{"name": ..., "payload": {{...}}}}, got '
            f"{text[:200]!r}."
        )
    given = body.get("payload")
    payload: dict[str, Any] = given if isinstance(given, dict) else {}
    event = {"name": body["name"], "id": str(body.get("id", "")), "type": "event",
             "timestamp": float(body.get("timestamp") or 0.0), "payload": payload}  # fmt: skip
    if body.get("type") in ("event", "run", "schedule"):
        event["type"] = body["type"]
    if body["name"].startswith("stepwell.finished.") and payload.get("pathspec"):
        flow = str(payload.get("flow_name") or payload["pathspec"].split("/")[0])
        event.update(name=flow, id=str(payload["pathspec"]), type="run")
    return event


def _trigger_json(text: str | None) -> dict[str, Any] | None:
    """``--trigger``: an object whose ``events`` each have a name, an id and a type."""
    if text is None or not text.strip():
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--trigger is not valid JSON ({exc.msg}): {text[:200]!r}") from None
    events = value.get("events") if isinstance(value, dict) else None
    if not isinstance(events, list) or not all(
        isinstance(e, dict) and {"name", "id", "type"} <= set(e) for e in events
    ):
        raise ConfigError(
            '--trigger must be {"events": [{"name": ..., "id": ..., "type": "event" | "run" | '
            f'"schedule", "timestamp": ..., "payload": {{...}}}}]}}, got {text[:200]!r}.'
        )
    return value
