"""``Task``: one execution of a step — its artifacts, logs, status, attempts and lineage."""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from stepwell.client import _logs
from stepwell.client._base import ClientObject, to_datetime
from stepwell.client._code import CodePackage, code_of
from stepwell.client._errors import (
    ArtifactNotFoundError,
    describe_namespace,
    did_you_mean,
    in_namespace,
    listing,
)
from stepwell.client._exception import TaskException

if TYPE_CHECKING:
    from stepwell.client._artifact import DataArtifact
    from stepwell.client._step import Step

#: Metadata names read into ``environment_info`` when the run recorded them.
ENVIRONMENT_KEYS = ("environment", "python_version", "executable", "platform", "executor")


class Metadata(NamedTuple):
    """One metadata entry of a task attempt (Metaflow's ``Metadata``).

    ``created_at`` is in epoch milliseconds, as in Metaflow.
    """

    name: str
    value: str
    created_at: int
    type: str
    task: Task


class Task(ClientObject):
    """A task of a step (``Task('HelloFlow/12/train/3')``): a container of its artifacts.

    Without ``attempt`` the task is its latest attempt; ``Task(pathspec,
    attempt=0)`` is the first one (e.g. to read why it failed before a retry).

    Example:
        >>> task = Task("HelloFlow/12/train/3")  # doctest: +SKIP
        >>> task.data.model, task.successful, task.current_attempt  # doctest: +SKIP
    """

    _DEPTH = 4
    _KIND = "Task"
    _task: Any = None
    _artifacts: dict[str, Any] | None = None

    def __init__(
        self, pathspec: str, attempt: int | None = None, *, _namespace_check: bool = True
    ) -> None:
        if attempt is not None and (
            not isinstance(attempt, int) or isinstance(attempt, bool) or attempt < 0
        ):
            raise ValueError(f"Invalid attempt {attempt!r}: expected a whole number >= 0.")
        self._pending_attempt = attempt
        super().__init__(pathspec, _namespace_check=_namespace_check)

    def _resolve(self, *, check: bool) -> None:
        if getattr(self, "_pending_attempt", None) is not None:
            self._attempt = self._pending_attempt
        self._resolve_run(check=check)
        self._load_task()

    def _resolve_lazily(self) -> None:
        if self._task is None:
            self._load_task()

    def _load_task(self) -> None:
        with in_namespace(self._ns):
            self._task = self._backend.metadata.get_task(*self._parts, attempt=self._attempt)
        self._artifacts = None

    def _fresh(self) -> Any:
        if self._task.status == "running":
            self._load_task()
        return self._task

    # -- state ----------------------------------------------------------------------

    @property
    def successful(self) -> bool:
        """Whether this attempt finished without error."""
        return bool(self._fresh().status == "succeeded")

    @property
    def finished(self) -> bool:
        """Whether this attempt has finished (successfully or not)."""
        return bool(self._fresh().status != "running")

    @property
    def exception(self) -> TaskException | None:
        """Why this attempt failed, as an exception object (Metaflow's), or ``None``.

        ``.type`` is the class (``builtins.ValueError``), ``.exception`` the
        message, ``.stacktrace`` (and ``str()``) the traceback text. Without
        ``attempt=`` it is about the latest attempt: ``None`` once a retry succeeded;
        ``Task(pathspec, attempt=0).exception`` is why the first attempt failed.
        """
        text = self._fresh().exception
        return TaskException.from_text(text) if text else None

    @property
    def index(self) -> int | None:
        """The task's index in its innermost foreach, or ``None`` outside a foreach."""
        return self._task.index

    @property
    def current_attempt(self) -> int:
        """The attempt this object shows (the latest unless ``attempt=`` chose one)."""
        return int(self._task.attempt)

    @property
    def created_at(self) -> _dt.datetime | None:
        return to_datetime(self._task.started_at)

    @property
    def finished_at(self) -> _dt.datetime | None:
        return to_datetime(self._fresh().finished_at)

    @property
    def origin_pathspec(self) -> str | None:
        """For a task cloned by ``resume``: the task it was cloned from."""
        return self._task.origin_pathspec

    @property
    def code(self) -> CodePackage | None:
        """The code package of the task's run (see :attr:`Run.code`)."""
        return code_of(self._backend, self._run)

    # -- artifacts ------------------------------------------------------------------

    def _artifact_records(self) -> dict[str, Any]:
        if self._artifacts is None:
            t = self._task
            self._artifacts = self._backend.metadata.list_artifacts(
                t.flow_name, t.run_id, t.step_name, t.task_id, attempt=t.attempt
            )
        return self._artifacts

    def _artifact_records_or_raise(self, name: str) -> Any:
        records = self._artifact_records()
        if name not in records:
            names = sorted(records)
            attempt = f" (attempt {self._task.attempt})" if self._task.attempt else ""
            raise ArtifactNotFoundError(
                f"Task '{self.pathspec}'{attempt} has no artifact '{name}'."
                + did_you_mean(name, names)
                + (listing("Artifacts of the task", names) or "\nThe task stored no artifacts.")
                + f"\nLooked up in {describe_namespace(self._ns)}.",
                pathspec=f"{self.pathspec}/{name}",
                candidates=names,
            )
        return records[name]

    def _artifact(self, name: str) -> DataArtifact:
        from stepwell.client._artifact import DataArtifact

        record = self._artifact_records_or_raise(name)
        parts = (*self._parts, name)
        state = {"_record": record, "_task": self._task, "attempt": self._attempt}
        return DataArtifact._child(parts, self._ns, self._run, **state)

    @property
    def data(self) -> TaskData:
        """The artifact values: ``task.data.<name>`` (each loaded on first access)."""
        return TaskData(self)

    @property
    def artifacts(self) -> TaskArtifacts:
        """The artifacts as ``DataArtifact`` objects: ``task.artifacts.<name>``."""
        return TaskArtifacts(self)

    def __iter__(self) -> Iterator[DataArtifact]:
        return (self._artifact(name) for name in sorted(self._artifact_records()))

    def __getitem__(self, name: str) -> DataArtifact:
        return self._artifact(str(name))

    # -- logs -----------------------------------------------------------------------

    def _log(self, stream: str) -> bytes:
        _check_stream(stream)
        return _logs.log_bytes(self._backend, self._run, self._task, stream)

    @property
    def stdout(self) -> str:
        """What this attempt printed to standard output ('' if nothing)."""
        return _logs.read_text(self._log("stdout"))

    @property
    def stderr(self) -> str:
        """What this attempt printed to standard error ('' if nothing)."""
        return _logs.read_text(self._log("stderr"))

    @property
    def stdout_size(self) -> int:
        """Size in bytes of the stdout log (timestamps included)."""
        return _logs.log_size(self._backend, self._run, self._task, "stdout")

    @property
    def stderr_size(self) -> int:
        """Size in bytes of the stderr log (timestamps included)."""
        return _logs.log_size(self._backend, self._run, self._task, "stderr")

    def loglines(
        self, stream: str, as_unicode: bool = True, meta_dict: dict[str, Any] | None = None
    ) -> Iterator[tuple[_dt.datetime | None, str | bytes]]:
        """``(datetime, line)`` for each line of ``stream`` (``"stdout"`` or ``"stderr"``).

        The datetime (UTC-aware) is when the runtime read the line from the task.
        The lines are this object's attempt's (the latest unless ``attempt=``
        chose one). ``meta_dict`` is accepted for Metaflow's signature and not
        needed: stepwell finds a log from the task's records alone.
        """
        for when, line in _logs.log_lines(self._log(stream)):
            yield when, line if as_unicode else line.encode("utf-8")

    # -- metadata -------------------------------------------------------------------

    @property
    def metadata(self) -> list[Metadata]:
        """Metadata entries of every attempt (or of the chosen one), oldest first.

        Entries the run recorded, plus ``attempt`` and ``attempt_ok`` for each
        attempt and ``user-name`` (derived from the records).
        """
        t = self._task
        attempts = [t.attempt] if self._attempt is not None else list(range(t.attempt + 1))
        entries: list[Metadata] = []
        meta = self._backend.metadata
        for attempt in attempts:
            with in_namespace(self._ns):
                record = t if attempt == t.attempt else meta.get_task(*self._parts, attempt)
                recorded = meta.get_task_metadata(*self._parts, attempt=attempt)
            entries.extend(self._derived(record))
            stamp = _ms(record.finished_at or record.started_at)
            entries.extend(Metadata(n, v, stamp, "recorded", self) for n, v in recorded.items())
        return entries

    def _derived(self, record: Any) -> list[Metadata]:
        started = _ms(record.started_at)
        found = [
            Metadata("attempt", str(record.attempt), started, "attempt", self),
            Metadata("user-name", str(self._run.user), started, "user-name", self),
        ]
        if record.status != "running":
            ok = str(record.status == "succeeded")
            found.append(
                Metadata("attempt_ok", ok, _ms(record.finished_at), "internal_attempt_status", self)
            )
        if record.origin_pathspec:
            found.append(
                Metadata("origin-pathspec", record.origin_pathspec, started, "origin", self)
            )
        return found

    @property
    def metadata_dict(self) -> dict[str, str]:
        """The latest value of each metadata name."""
        return {entry.name: entry.value for entry in self.metadata}

    @property
    def environment_info(self) -> dict[str, Any]:
        """The environment the task ran in, as far as the run recorded it.

        If the run recorded an ``environment`` metadata entry (JSON object) or
        any of ``python_version``, ``executable``, ``platform``, ``executor``,
        those are returned (with ``recorded`` True). Today's runtime records
        none of them, so the dict holds what the run's records give:
        ``type`` (the ``runtime:`` system tag, e.g. "local"), ``recorded``
        (False), ``python_version`` and ``stepwell_version`` (from the run's
        system tags; ``None`` if absent), ``user``, and the ``host`` and
        ``pid`` of the run's scheduler (not of the task's process).
        """
        meta = self.metadata_dict
        if "environment" in meta:
            try:
                value = json.loads(meta["environment"])
            except ValueError:
                value = None
            if isinstance(value, dict):
                return {**value, "recorded": True}
        found = {k: meta[k] for k in ENVIRONMENT_KEYS if k in meta}
        if found:
            return {**found, "recorded": True}
        run = self._run
        tagged = dict(t.split(":", 1) for t in run.system_tags if ":" in t)
        return {
            "type": tagged.get("runtime", "local"),
            "recorded": False,
            "python_version": tagged.get("python_version"),
            "stepwell_version": tagged.get("stepwell_version"),
            "user": run.user,
            "host": run.host,
            "pid": run.pid,
        }

    # -- lineage --------------------------------------------------------------------

    def _lineage(self, parents: bool) -> list[Any]:
        meta = self._backend.metadata
        lookup = meta.parent_tasks if parents else meta.child_tasks
        with in_namespace(self._ns):
            return list(lookup(*self._parts))

    def _task_of(self, record: Any) -> Task:
        parts = (record.flow_name, record.run_id, record.step_name, record.task_id)
        return Task._child(parts, self._ns, self._run, _task=record)

    @property
    def parent_tasks(self) -> Iterator[Task]:
        """The tasks whose outputs this task consumed (a join: one per branch or item)."""
        return (self._task_of(r) for r in self._lineage(parents=True))

    @property
    def child_tasks(self) -> Iterator[Task]:
        """The tasks that consumed this task's outputs."""
        return (self._task_of(r) for r in self._lineage(parents=False))

    @property
    def parent_task_pathspecs(self) -> Iterator[str]:
        """Pathspecs of :attr:`parent_tasks`."""
        return (r.pathspec for r in self._lineage(parents=True))

    @property
    def child_task_pathspecs(self) -> Iterator[str]:
        """Pathspecs of :attr:`child_tasks`."""
        return (r.pathspec for r in self._lineage(parents=False))

    @property
    def step(self) -> Step:
        return self.parent  # type: ignore[return-value]


def _ms(epoch: float | None) -> int:
    return int((epoch or 0.0) * 1000)


class TaskData:
    """``task.data``: artifact values by attribute (``task.data.model``), loaded lazily."""

    __slots__ = ("_task",)

    def __init__(self, task: Task) -> None:
        self._task = task

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._task._artifact(name).data

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._task._artifact_records()

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._task._artifact_records()))

    def __len__(self) -> int:
        return len(self._task._artifact_records())

    def __dir__(self) -> list[str]:
        return sorted(self._task._artifact_records())

    def __repr__(self) -> str:
        return f"<TaskData of {self._task.pathspec}: {', '.join(self)}>"


class TaskArtifacts:
    """``task.artifacts``: ``DataArtifact`` objects by attribute (``task.artifacts.model``)."""

    __slots__ = ("_task",)

    def __init__(self, task: Task) -> None:
        self._task = task

    def __getattr__(self, name: str) -> DataArtifact:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._task._artifact(name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._task._artifact_records()

    def __iter__(self) -> Iterator[DataArtifact]:
        return iter(self._task)

    def __len__(self) -> int:
        return len(self._task._artifact_records())

    def __dir__(self) -> list[str]:
        return sorted(self._task._artifact_records())

    def __repr__(self) -> str:
        return f"<TaskArtifacts of {self._task.pathspec}: {', '.join(dir(self))}>"


def _check_stream(stream: str) -> None:
    if stream not in _logs.STREAMS:
        raise ValueError(f"Invalid log stream {stream!r}: expected 'stdout' or 'stderr'.")
