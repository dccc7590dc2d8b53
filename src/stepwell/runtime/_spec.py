"""What the scheduler hands an executor (``TaskSpec``) and what a task returns (``TaskResult``)."""

from __future__ import annotations

import json
import signal
from dataclasses import dataclass, field
from typing import Any, Literal

FrameKind = Literal["split", "foreach", "parallel"]


@dataclass(frozen=True)
class Frame:
    """One enclosing split of a task: which task split, how wide, and this branch's index."""

    split_task: str  # task id of the splitting task
    kind: FrameKind
    index: int
    width: int
    items_key: str | None = None  # foreach: blob holding the materialized items


@dataclass(frozen=True)
class CaughtFailure:
    """What a @catch fallback attempt stores: the last attempt's failure."""

    exception_type: str
    message: str
    traceback: str
    attempt: int


@dataclass(frozen=True)
class TaskSpec:
    """Everything a worker needs to run one attempt of one task."""

    flow_name: str
    run_id: str
    step_name: str
    task_id: str
    attempt: int = 0
    input_task_ids: tuple[str, ...] = ()  # parent task ids (one, or a join's inputs in order)
    input_steps: tuple[str, ...] = ()  # the step of each input task, same order
    frames: tuple[Frame, ...] = ()
    # Artifact refs inherited from the (single) parent, and the run's parameters.
    parent_refs: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    param_refs: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    # @catch: the failure of the last attempt; this attempt runs no user code, it
    # stores the failure and lets the run go on.
    caught: CaughtFailure | None = None
    # What a remote executor adds for a worker without metadata access: "input_refs" (a
    # join's inputs: task id -> artifact refs) and "main_ip" (a @parallel gang's node 0).
    extras: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def pathspec(self) -> str:
        return f"{self.flow_name}/{self.run_id}/{self.step_name}/{self.task_id}"

    @property
    def key(self) -> tuple[str, int]:
        return (self.task_id, self.attempt)

    @property
    def frames_json(self) -> str:
        """The enclosing splits as JSON, as the metadata store keeps them."""
        return json.dumps([[f.split_task, f.kind, f.index, f.width] for f in self.frames])

    @property
    def foreach_index(self) -> int | None:
        """Index in the innermost foreach (or @parallel gang); None outside one."""
        for frame in reversed(self.frames):
            if frame.kind != "split":
                return frame.index
        return None


@dataclass
class TaskResult:
    """What a finished task attempt reports back."""

    task_id: str
    attempt: int
    ok: bool
    artifacts: dict[str, Any] = field(default_factory=dict)  # name -> ArtifactRef
    next_steps: tuple[str, ...] = ()
    foreach: str | None = None
    condition: str | None = None
    num_parallel: int | None = None
    num_splits: int | None = None
    items_key: str | None = None
    exception_type: str | None = None
    exception: str | None = None  # one-line message
    traceback: str | None = None  # the user's traceback, stepwell frames trimmed
    started_at: float = 0.0
    finished_at: float = 0.0
    reads: tuple[tuple[str, str], ...] = ()  # (artifact name, blob key) read from parents
    origin_pathspec: str | None = None  # resume: the task of the origin run this clones
    metadata: dict[str, str] = field(default_factory=dict)  # task metadata, e.g. its cards

    @classmethod
    def crashed(cls, spec: TaskSpec, exit_code: int, *, started: float, at: float) -> TaskResult:
        """The result of a task whose process ended without reporting one."""
        if exit_code < 0:
            try:
                name = signal.Signals(-exit_code).name
            except ValueError:
                name = f"signal {-exit_code}"
            reason = f"The task process was killed by {name}"
            if exit_code == -signal.SIGKILL:
                reason += " (out of memory, or killed from outside)"
        else:
            reason = f"The task process exited with code {exit_code} before reporting a result"
        return cls(
            task_id=spec.task_id,
            attempt=spec.attempt,
            ok=False,
            exception_type="TaskCrashed",
            exception=reason + ".",
            started_at=started,
            finished_at=at,
        )
