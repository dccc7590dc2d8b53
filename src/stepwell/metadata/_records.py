"""The values the metadata store takes and returns: frozen dataclasses.

Timestamps are UTC epoch seconds as ``float``. Values described as "JSON
text" are stored and returned verbatim; this layer never parses them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

RunStatus = Literal["running", "succeeded", "failed"]
"""A run's status. ``running`` is reported only while its scheduler is alive."""

TaskStatus = Literal["running", "succeeded", "failed"]
"""A task attempt's status."""

FINISHED_STATUSES: tuple[str, ...] = ("succeeded", "failed")


@dataclass(frozen=True)
class ArtifactRecord:
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


@dataclass(frozen=True)
class RunRecord:
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


@dataclass(frozen=True)
class TaskRecord:
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
    index: int | None
    exception: str | None
    origin_pathspec: str | None
    next_steps: tuple[str, ...]
    split_count: int | None

    @property
    def pathspec(self) -> str:
        return f"{self.flow_name}/{self.run_id}/{self.step_name}/{self.task_id}"


@dataclass(frozen=True)
class TaskLaunch:
    """A task attempt the scheduler is launching (see ``register_task``).

    ``started_at`` defaults to the store's clock.
    """

    flow_name: str
    run_id: str
    step_name: str
    task_id: str
    attempt: int = 0
    parent_task_ids: Sequence[str] = ()
    foreach_stack: str = "[]"
    index: int | None = None
    started_at: float | None = None

    @property
    def pathspec(self) -> str:
        return f"{self.flow_name}/{self.run_id}/{self.step_name}/{self.task_id}"


@dataclass(frozen=True)
class TaskOutcome:
    """A finished task attempt, recorded in one transaction (see ``record_task``).

    Attributes:
        status: ``succeeded`` or ``failed``.
        finished_at: when it finished; defaults to the store's clock.
        started_at: used only when the attempt was never registered; defaults
            to ``finished_at`` then.
        exception: the failure's text (traceback), if any.
        artifacts: the artifacts the attempt produced (blobs already durable).
        parent_task_ids: ids of the tasks (same run) whose outputs it consumed.
        metadata: task metadata, name -> JSON text (foreach info, transition...).
        origin_pathspec: for a task cloned by ``resume``, the task it copies.
        next_steps: the steps it transitioned to.
        split_count: how many tasks its foreach split into, if it split.
    """

    flow_name: str
    run_id: str
    step_name: str
    task_id: str
    attempt: int
    status: TaskStatus
    finished_at: float | None = None
    started_at: float | None = None
    exception: str | None = None
    artifacts: Sequence[ArtifactRecord] = ()
    parent_task_ids: Sequence[str] = ()
    metadata: Mapping[str, str] = field(default_factory=dict)
    origin_pathspec: str | None = None
    foreach_stack: str = "[]"
    index: int | None = None
    next_steps: Sequence[str] = ()
    split_count: int | None = None
    reads: Sequence[tuple[str, str]] = ()  # (artifact name, blob key) read from parents

    @property
    def pathspec(self) -> str:
        return f"{self.flow_name}/{self.run_id}/{self.step_name}/{self.task_id}"


@dataclass(frozen=True)
class TokenRecord:
    """An API token of the UI server (``stepwell server``), without its secret.

    The secret is shown once, when the token is created; the store keeps only
    its SHA-256 hash, which no record carries.

    Attributes:
        token_id: a short random id that names the token (``token list``, logs).
        user: the user name the token signs in as.
        note: what the token is for, as given when it was created.
        created_at: when it was created.
        last_used_at: when it was last accepted (kept to the minute), or ``None``.
        revoked_at: when it was revoked, or ``None`` while it is valid.
    """

    token_id: str
    user: str
    note: str | None
    created_at: float
    last_used_at: float | None = None
    revoked_at: float | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


TOKEN_LAST_USED_RESOLUTION = 60.0
"""Seconds: a token's ``last_used_at`` is rewritten at most this often."""


@dataclass(frozen=True)
class DeploymentRecord:
    """One version of a deployed flow (``python flow.py deploy``).

    Attributes:
        name: the deployment's name (the flow's, or ``project.branch.Flow``).
        version: 1 for the first deploy, one more for each deploy after it.
        flow_name: the flow it runs.
        spec: what the version runs and when, as the deploying tool wrote it
            (a JSON object: code package key, datastore, parameters, schedule,
            triggers, ...).
        deployed_by: who deployed it.
        deployed_at: when.
        active: whether it is the version in service (one per name at most;
            none once undeployed).
    """

    name: str
    version: int
    flow_name: str
    spec: dict[str, Any]
    deployed_by: str
    deployed_at: float
    active: bool = True


@dataclass(frozen=True)
class EventRecord:
    """An event published for ``@trigger`` (``stepwell event publish``): ids only grow."""

    event_id: int
    name: str
    payload: dict[str, Any]
    published_by: str
    published_at: float


@dataclass(frozen=True)
class FireRecord:
    """One reason a deployment ran (or is about to): claimed once, by one scheduler.

    ``fire_key`` names the reason (``schedule:<UTC time>``, ``event:<id>``,
    ``finish:<pathspec>``); ``trigger`` is what fired it (given to the run as
    ``current.trigger``); ``run_id`` is set once the run exists, so a fire
    claimed by a scheduler that died before starting it is found again.
    """

    deployment: str
    fire_key: str
    version: int
    claimed_by: str
    claimed_at: float
    trigger: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None
