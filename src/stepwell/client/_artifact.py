"""``DataArtifact``: one value a task stored (``self.<name>``), loaded on first use."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from stepwell.client._base import ClientObject, to_datetime

if TYPE_CHECKING:
    from stepwell.client._task import Task


class DataArtifact(ClientObject):
    """An artifact of a task (``DataArtifact('HelloFlow/12/train/3/model')``).

    ``data`` is read from the artifact store on first access and cached for
    the process, by blob key: two artifacts with equal content share one value.
    Copy a value before changing it in place.
    """

    _DEPTH = 5
    _KIND = "DataArtifact"
    _record: Any
    _task: Any

    def _resolve(self, *, check: bool) -> None:
        from stepwell.client._task import Task

        task = Task._child(self._parts[:4], self._ns, None, attempt=self._attempt)
        task._resolve(check=check)
        self._run, self._task = task._run, task._task
        self._record = task._artifact_records_or_raise(self.id)

    @property
    def data(self) -> Any:
        """The value (loaded lazily, cached per process)."""
        context = f"artifact '{self.pathspec}'"
        return self._backend.load_artifact(self._record, context, self._run)

    @property
    def sha(self) -> str:
        """The key of the value's blob in the artifact store (its BLAKE3 digest)."""
        return str(self._record.key)

    @property
    def size(self) -> int:
        """The size of the serialized value, in bytes."""
        return int(self._record.size)

    @property
    def type_name(self) -> str:
        """The qualified Python type name of the value."""
        return str(self._record.type_name)

    @property
    def task(self) -> Task:
        """The task that produced this artifact."""
        from stepwell.client._task import Task

        return Task._child(self._parts[:4], self._ns, self._run, _task=self._task,
                           attempt=self._attempt)  # fmt: skip

    @property
    def read_by(self) -> list[Task]:
        """The tasks of this run that read this artifact (by its name and value)."""
        from stepwell.client._task import Task

        records = self._backend.metadata.readers_of(
            self._parts[0], self._parts[1], self.id, self._record.key
        )
        return [Task(r.pathspec, _namespace_check=False) for r in records]

    @property
    def produced_by(self) -> Task:
        """The task that computed this value: the artifact's task, or the ancestor it
        inherited the value from unchanged."""
        from stepwell.client._task import Task

        task = self.task
        while True:
            for parent in task.parent_tasks:
                record = parent._artifact_records().get(self.id)
                if record is not None and record.key == self._record.key:
                    task = parent
                    break
            else:
                return Task(task.pathspec, _namespace_check=False)

    def _parent_object(self) -> ClientObject:
        return self.task

    @property
    def created_at(self) -> _dt.datetime | None:
        """When the producing task finished (artifacts are stored as it ends)."""
        return to_datetime(self._task.finished_at)

    @property
    def finished_at(self) -> _dt.datetime | None:
        return to_datetime(self._task.finished_at)

    @property
    def origin_pathspec(self) -> str | None:
        """For an artifact of a task cloned by ``resume``: the same artifact of the original."""
        origin = self._task.origin_pathspec
        return f"{origin}/{self.id}" if origin else None

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __getitem__(self, child_id: str) -> Any:
        from stepwell.exceptions import NotFoundError

        raise NotFoundError(f"A DataArtifact has no children ({self.pathspec}/{child_id}).")
