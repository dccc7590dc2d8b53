"""What the runtime reports to the metadata store: a task attempt launched, then finished.

Only writers (the scheduler, the one-task command) build these; readers never
import this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from stepwell.metadata._records import ArtifactRecord, TaskStatus, task_pathspec


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

    pathspec = property(task_pathspec)


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

    pathspec = property(task_pathspec)
