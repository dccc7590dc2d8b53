"""``Step``: the tasks one step of a run ran (one, or one per foreach item)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from stepwell.client._base import ClientObject, to_datetime
from stepwell.client._errors import in_namespace
from stepwell.client._tags import check_tags

if TYPE_CHECKING:
    from stepwell.client._task import Task


class Step(ClientObject):
    """A step of a run (``Step('HelloFlow/12/train')``): a container of its tasks.

    Tasks come in launch order (for a foreach, by index as they were launched).
    """

    _DEPTH = 3
    _KIND = "Step"
    _tasks: list[Any] | None = None

    def _resolve(self, *, check: bool) -> None:
        self._resolve_run(check=check)
        self._tasks = None
        self._task_records()

    def _task_records(self) -> list[Any]:
        """The latest attempt of each task (raises NotFoundError for an unknown step)."""
        if self._tasks is None:
            with in_namespace(self._ns):
                self._tasks = list(self._backend.metadata.list_tasks(*self._parts))
        return self._tasks

    def _task_object(self, record: Any) -> Task:
        from stepwell.client._task import Task

        return Task._child((*self._parts, record.task_id), self._ns, self._run, _task=record)

    @property
    def task(self) -> Task | None:
        """A task of the step (the first launched): for steps with one task, like ``start``."""
        records = self._task_records()
        return self._task_object(records[0]) if records else None

    def tasks(self, *tags: str) -> Iterator[Task]:
        """The step's tasks; with ``tags``, only if the run carries every one of them."""
        if not set(check_tags(tags)) <= self.tags:
            return iter(())
        return (self._task_object(record) for record in self._task_records())

    def __iter__(self) -> Iterator[Task]:
        return self.tasks()

    def __getitem__(self, task_id: str) -> Task:
        from stepwell.client._task import Task

        task = Task._child((*self._parts, str(task_id)), self._ns, self._run)
        task._load_task()
        return task

    @property
    def created_at(self) -> _dt.datetime | None:
        """When the step's first task started."""
        starts = [t.started_at for t in self._task_records()]
        return to_datetime(min(starts)) if starts else None

    @property
    def finished_at(self) -> _dt.datetime | None:
        """When the step's last task finished, once every task has finished."""
        ends = [t.finished_at for t in self._task_records()]
        if not ends or None in ends:
            return None
        return to_datetime(max(ends))

    @property
    def origin_pathspec(self) -> str | None:
        """For a step cloned by ``resume``: the step it was cloned from."""
        task = self.task
        origin = task.origin_pathspec if task is not None else None
        return origin.rsplit("/", 1)[0] if origin else None

    @property
    def environment_info(self) -> dict[str, Any]:
        """The environment of the step's first task (see ``Task.environment_info``)."""
        task = self.task
        return task.environment_info if task is not None else {}
