"""``Run``: one execution of a flow — its steps, its end task's data, its tags."""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from stepwell.client._base import ClientObject, to_datetime
from stepwell.client._code import CodePackage, code_of
from stepwell.client._errors import TagError, in_namespace
from stepwell.client._tags import check_new_user_tags, check_tags

if TYPE_CHECKING:
    from stepwell.client._compare import RunComparison
    from stepwell.client._flow import Flow
    from stepwell.client._step import Step
    from stepwell.client._task import Task, TaskData

END_STEP = "end"


class Run(ClientObject):
    """A run of a flow (``Run('HelloFlow/12')``): a container of its steps.

    Example:
        >>> run = Run("HelloFlow/12")  # doctest: +SKIP
        >>> run.successful, run.data.result  # doctest: +SKIP
        (True, 42)
    """

    _DEPTH = 2
    _KIND = "Run"

    def _resolve(self, *, check: bool) -> None:
        self._resolve_run(check=check)

    def _fresh(self) -> Any:
        """The run record, re-read while the run is still running."""
        if self._run.status == "running":
            self._resolve_run(check=False)
        return self._run

    # -- state ----------------------------------------------------------------------

    @property
    def successful(self) -> bool:
        """Whether the run finished and succeeded (its end step ran without error)."""
        return bool(self._fresh().status == "succeeded")

    @property
    def finished(self) -> bool:
        """Whether the run is over, successful or not.

        Unlike Metaflow (where a run that failed before its end step is never
        "finished"), a failed run is finished here: nothing more will happen to it.
        """
        return bool(self._fresh().status != "running")

    @property
    def status(self) -> str:
        """``"running"``, ``"succeeded"`` or ``"failed"`` (a dead scheduler counts as failed)."""
        return str(self._fresh().status)

    @property
    def error(self) -> str | None:
        """Why a failed run failed (its first failed task, or "scheduler died")."""
        return self._fresh().error

    @property
    def created_at(self) -> _dt.datetime | None:
        return to_datetime(self._run.started_at)

    @property
    def finished_at(self) -> _dt.datetime | None:
        return to_datetime(self._fresh().finished_at)

    @property
    def origin_pathspec(self) -> str | None:
        """For a resumed run: the pathspec of the run it resumed (``Flow/run_id``)."""
        origin = self._run.origin_run_id
        return f"{self._parts[0]}/{origin}" if origin else None

    @property
    def user(self) -> str:
        """Who started the run."""
        return str(self._run.user)

    @property
    def parameters(self) -> dict[str, Any]:
        """The run's parameter values (decoded from the JSON the run recorded)."""
        return {name: json.loads(value) for name, value in self._run.parameters.items()}

    @property
    def datastore_root(self) -> str:
        """Where the run's artifacts, logs, cards and code are: a directory or s3://bucket/prefix.

        ``S3(run=run)`` keeps data next to them, under ``<datastore_root>/data/<flow>/<run id>``.
        """
        return str(self._run.datastore or self._backend.datastore)

    @property
    def code(self) -> CodePackage | None:
        """The code package the run ran (its flow's directory), or None if it stored none."""
        return code_of(self._backend, self._run)

    # -- children -------------------------------------------------------------------

    def steps(self, *tags: str) -> Iterator[Step]:
        """The run's steps (those with at least one task), the latest started first.

        With ``tags``, only if the run carries every one of them.
        """
        wanted = set(check_tags(tags))
        if not wanted <= self.tags:
            return iter(())
        with in_namespace(self._ns):
            names = self._backend.metadata.list_steps(*self._parts)
        return (self._step(name) for name in reversed(names))

    def _step(self, name: str, records: list[Any] | None = None) -> Step:
        from stepwell.client._step import Step

        return Step._child((*self._parts, name), self._ns, self._run, _tasks=records)

    def __iter__(self) -> Iterator[Step]:
        return self.steps()

    def __getitem__(self, step_name: str) -> Step:
        step = self._step(str(step_name))
        step._task_records()  # raises NotFoundError for an unknown step
        return step

    @property
    def end_task(self) -> Task | None:
        """The task of the ``end`` step, or ``None`` if the run never reached it."""
        from stepwell.exceptions import NotFoundError

        try:
            return self[END_STEP].task
        except NotFoundError:
            return None

    @property
    def data(self) -> TaskData | None:
        """The end task's artifacts (``run.data.x``), or ``None`` if the run has no end task."""
        end = self.end_task
        return end.data if end is not None else None

    @property
    def flow(self) -> Flow:
        return self.parent  # type: ignore[return-value]

    # -- comparison -----------------------------------------------------------------

    def compare(self, other: Run) -> RunComparison:
        """Parameter and artifact differences between this run and ``other``.

        See :func:`stepwell.client.compare_runs`.
        """
        from stepwell.client._compare import compare_runs

        return compare_runs(self, other)

    # -- tags -----------------------------------------------------------------------

    def add_tag(self, tag: str) -> None:
        """Add one user tag to the run."""
        self.add_tags([tag])

    def add_tags(self, tags: Iterable[str]) -> None:
        """Add user tags to the run (tags it has already are kept once).

        A user tag may not start with a system tag's prefix (``user:``,
        ``runtime:``, ...): that raises TagError.
        """
        new = check_new_user_tags(tags)
        if new:
            self._backend.metadata.add_tags(*self._parts, new)
        self._resolve_run(check=False)

    def remove_tag(self, tag: str) -> None:
        """Remove one user tag from the run."""
        self.remove_tags([tag])

    def remove_tags(self, tags: Iterable[str]) -> None:
        """Remove user tags from the run; system tags cannot be removed (TagError)."""
        gone = check_tags(tags)
        self._refuse_system(gone, "remove")
        if gone:
            self._backend.metadata.remove_tags(*self._parts, gone)
        self._resolve_run(check=False)

    def replace_tag(self, tag_to_remove: str, tag_to_add: str) -> None:
        """Remove one user tag and add another."""
        self.replace_tags([tag_to_remove], [tag_to_add])

    def replace_tags(self, tags_to_remove: Iterable[str], tags_to_add: Iterable[str]) -> None:
        """Remove some user tags and add others (the new ones are added first)."""
        gone, new = check_tags(tags_to_remove), check_tags(tags_to_add)
        self._refuse_system(gone, "replace")
        check_new_user_tags(new)
        if new:
            self._backend.metadata.add_tags(*self._parts, new)
        gone = [t for t in gone if t not in new]
        if gone:
            self._backend.metadata.remove_tags(*self._parts, gone)
        self._resolve_run(check=False)

    def _refuse_system(self, tags: list[str], verb: str) -> None:
        self._resolve_run(check=False)
        system = [t for t in tags if t in self.system_tags and t not in self.user_tags]
        if system:
            raise TagError(
                f"Cannot {verb} system tag(s) {', '.join(map(repr, system))} of run "
                f"{self.pathspec}: system tags are immutable. User tags of the run: "
                f"{', '.join(sorted(self.user_tags)) or 'none'}.",
                pathspec=self.pathspec,
                tags=system,
            )
