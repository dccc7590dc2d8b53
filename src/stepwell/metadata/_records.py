"""The values the metadata store returns about runs, tasks and artifacts: named tuples.

Immutable records with named fields; tuples rather than dataclasses because every
Client read builds them, and a process that only reads then never imports
``dataclasses`` (and ``inspect``) or builds a dataclass (~1 ms each at import).

What writers report (``_launches``) and the services' records (``_service_records``:
tokens, deployments, events, fires) live apart, so a process that only reads runs
does not build their classes.

Timestamps are UTC epoch seconds as ``float``. Values described as "JSON
text" are stored and returned verbatim; this layer never parses them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

RunStatus = Literal["running", "succeeded", "failed"]
"""A run's status. ``running`` is reported only while its scheduler is alive."""

TaskStatus = Literal["running", "succeeded", "failed"]
"""A task attempt's status."""

FINISHED_STATUSES: tuple[str, ...] = ("succeeded", "failed")


def task_pathspec(task: Any) -> str:
    """``flow/run/step/task`` of anything that names a task attempt: a :class:`TaskRecord`,
    and what writers report (``TaskLaunch``, ``TaskOutcome``)."""
    return f"{task.flow_name}/{task.run_id}/{task.step_name}/{task.task_id}"


class ArtifactRecord(NamedTuple):
    """One artifact of a task attempt: where its blob is and how to read it.

    Attributes:
        name: the attribute name in the step (``self.<name>``).
        key: the content-addressed key of the blob in the artifact store.
        serializer: the name of the serializer that wrote the blob.
        type_name: the qualified Python type name of the value.
        size: the size of the value's serialized bytes.
        meta: extra serializer information, JSON text.
    """

    name: str
    key: str
    serializer: str
    type_name: str
    size: int
    meta: str = "{}"

    @classmethod
    def from_ref(cls, name: str, ref: Any) -> ArtifactRecord:
        """The record of artifact ``name`` stored at ``ref`` (the store's ArtifactRef)."""
        meta = json.dumps(dict(ref.meta), sort_keys=True)
        return cls(name, ref.key, ref.serializer, ref.type_name, ref.size, meta)


class RunRecord(NamedTuple):
    """A run as the metadata store knows it.

    ``status`` is derived: a run stored as ``running`` whose heartbeat is too
    old, or whose scheduler process on this host is gone, is reported as
    ``failed`` with ``error == "scheduler died"``.
    """

    flow_name: str
    run_id: str
    status: RunStatus
    user: str
    tags: tuple[str, ...]
    system_tags: tuple[str, ...]
    parameters: Mapping[str, str]
    started_at: float
    finished_at: float | None
    heartbeat_at: float
    pid: int | None
    host: str | None
    origin_run_id: str | None
    code_key: str | None
    error: str | None
    datastore: str | None = None  # where its blobs are: a local path or s3://bucket/prefix

    @property
    def pathspec(self) -> str:
        return f"{self.flow_name}/{self.run_id}"


class TaskRecord(NamedTuple):
    """One attempt of a task.

    Attributes:
        foreach_stack: JSON text, the foreach frames enclosing the task.
        index: the task's index in its innermost foreach, or ``None``.
        next_steps: the steps the task transitioned to (empty until it finished).
        split_count: how many tasks its foreach split into, or ``None``.
        origin_pathspec: for a task cloned by ``resume``, the task it was cloned from.
    """

    flow_name: str
    run_id: str
    step_name: str
    task_id: str
    attempt: int
    status: TaskStatus
    started_at: float
    finished_at: float | None
    foreach_stack: str
    index: int | None  # type: ignore[assignment]  # the field, not tuple.index
    exception: str | None
    origin_pathspec: str | None
    next_steps: tuple[str, ...]
    split_count: int | None

    @property
    def pathspec(self) -> str:
        return task_pathspec(self)
