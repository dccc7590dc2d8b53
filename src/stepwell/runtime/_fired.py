"""A run started by ``stepwell scheduler``: which fire it is, and what triggered it.

The scheduler starts a deployed flow with ``STEPWELL_FIRE`` (JSON: the
deployment, the fire's key, what triggered it) in the run's environment,
after claiming the fire in the metadata store and marking it
``pending:<pid>`` with the new process's pid. The run goes on only if that
mark is its own (:func:`own_fire`): a scheduler killed between starting a run
and marking its fire starts the fire again when it comes back, and the
orphan, finding another pid there, leaves without running — so each fire
makes exactly one run. Once the run exists, its id replaces the mark
(:func:`fire_started`).
"""

from __future__ import annotations

import importlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

FIRE_ENV = "STEPWELL_FIRE"
PENDING = "pending:"
OWNERSHIP_WAIT = 30.0  # seconds a started run waits for the scheduler's mark


@dataclass(frozen=True)
class Fire:
    """What ``STEPWELL_FIRE`` says: the deployment, the fire, its trigger."""

    deployment: str
    fire_key: str
    version: int = 0
    trigger: dict[str, Any] = field(default_factory=dict)

    def system_tags(self) -> list[str]:
        kind = self.fire_key.split(":", 1)[0]
        return [f"deployment:{self.deployment}", f"triggered_by:{kind}"]


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (on this machine)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fire_from_env(env: Mapping[str, str] | None = None) -> Fire | None:
    text = (env if env is not None else os.environ).get(FIRE_ENV)
    if not text:
        return None
    data = json.loads(text)
    return Fire(data["deployment"], data["fire_key"], int(data.get("version", 0)),
                dict(data.get("trigger") or {}))  # fmt: skip


def own_fire(metadata: Any, fire: Fire, *, wait: float = OWNERSHIP_WAIT) -> bool:
    """Whether this process is the run of ``fire`` (see the module docstring)."""
    mine = f"{PENDING}{os.getpid()}"
    deadline = time.monotonic() + wait
    while True:
        found = [f for f in metadata.list_fires(fire.deployment, prefix=fire.fire_key, limit=50)
                 if f.fire_key == fire.fire_key]  # fmt: skip
        run_id = found[0].run_id if found else None
        if run_id == mine:
            return True
        if run_id is not None or time.monotonic() > deadline:
            return False  # another process is (or was) this fire's run
        time.sleep(0.02)


def fire_started(metadata: Any, fire: Fire, run_id: str) -> None:
    metadata.set_fire_run(fire.deployment, fire.fire_key, run_id)


@dataclass(frozen=True)
class TriggerEvent:
    """One event or finished run that started this run (Metaflow's ``MetaflowEvent``)."""

    name: str
    id: str
    timestamp: float
    type: str  # "event", "run" or "schedule"
    payload: dict[str, Any] = field(default_factory=dict)


class Trigger:
    """``current.trigger`` in a run the scheduler started (``None`` in any other run).

    ``event`` / ``events``: what fired it; ``run`` / ``runs``: for
    ``@trigger_on_finish``, the upstream runs (Client ``Run`` objects).
    """

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.events = [
            TriggerEvent(
                e["name"],
                str(e["id"]),
                float(e.get("timestamp", 0.0)),
                e["type"],
                dict(e.get("payload") or {}),
            )
            for e in data.get("events", [])
        ]

    @property
    def event(self) -> TriggerEvent | None:
        return self.events[0] if self.events else None

    @property
    def runs(self) -> list[Any]:
        # The Client sits above the runtime: found by name, as FlowSpec finds the CLI.
        run = importlib.import_module("stepwell.client").Run
        return [run(e.id, _namespace_check=False) for e in self.events if e.type == "run"]

    @property
    def run(self) -> Any:
        runs = self.runs
        return runs[0] if runs else None

    def __repr__(self) -> str:
        return f"Trigger({', '.join(f'{e.type}:{e.name}' for e in self.events)})"
