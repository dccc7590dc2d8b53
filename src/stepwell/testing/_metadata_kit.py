"""What the metadata conformance suites share: a hand-moved clock and record builders."""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from typing import Any

from stepwell.metadata import ArtifactRecord, MetadataStore, TaskOutcome

FLOW = "HelloFlow"
T0 = 1_700_000_000.0
DEAD_PID = 2**30 - 1  # above every platform's pid_max: no such process
HEARTBEAT_TIMEOUT = 60.0


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def new_run(store: MetadataStore, flow: str = FLOW, **overrides: Any) -> str:
    fields: dict[str, Any] = {
        "user": "ada",
        "tags": [],
        "system_tags": ["user:ada"],
        "parameters": {},
        "pid": os.getpid(),
        "host": socket.gethostname(),
    }
    fields.update(overrides)
    return store.new_run(flow, **fields)


def outcome(run_id: str, step: str, task_id: str, **overrides: Any) -> TaskOutcome:
    fields: dict[str, Any] = {"attempt": 0, "status": "succeeded"}
    fields.update(overrides)
    flow = fields.pop("flow", FLOW)
    return TaskOutcome(flow, run_id, step, task_id, **fields)


def artifact(name: str, key: str = "k", size: int = 1) -> ArtifactRecord:
    return ArtifactRecord(name, key, "pickle", "builtins.int", size, '{"protocol": 5}')


def write_a_run(store: MetadataStore, number: int, tasks: int, batch: int = 25) -> str:
    """What one writer of a concurrency test does: a run of user ``writer<number>``
    with ``tasks`` train tasks (artifact ``x`` keyed ``<number>-<i>``), recorded one
    by one (even ``number``) or in batches; then finished. Returns the run id."""
    run_id = new_run(store, user=f"writer{number}", tags=[f"w{number}"], system_tags=[])
    outcomes = [
        outcome(run_id, "train", str(i), parent_task_ids=("start",),
                artifacts=(ArtifactRecord("x", f"{number}-{i}", "pickle", "builtins.int", i),))
        for i in range(tasks)
    ]  # fmt: skip
    if number % 2:
        for start in range(0, len(outcomes), batch):
            store.record_tasks(outcomes[start : start + batch])
    else:
        for item in outcomes:
            store.record_task(item)
    store.finish_run(FLOW, run_id, "succeeded")
    return run_id


def ids(records: Sequence[Any]) -> list[str]:
    return [getattr(r, "task_id", None) or r.run_id for r in records]
