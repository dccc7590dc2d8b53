"""Task-level reads of the SQL metadata store (a mixin of ``SqlMetadataStore``).

Everything here is an indexed lookup by (run, task) or (run, step); a join's
inputs are read in one query per chunk of tasks, never one per input.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from stepwell.metadata import _notfound
from stepwell.metadata._database import Query, SqlDatabase
from stepwell.metadata._records import ArtifactRecord, TaskRecord
from stepwell.metadata._rows import LATEST_ATTEMPT, TASK_COLUMNS, TASK_ORDER, task_record

if TYPE_CHECKING:
    from stepwell.metadata._launches import TaskLaunch, TaskOutcome

#: Task ids per IN (...) list: under SQLite's and PostgreSQL's parameter limits.
_CHUNK = 500


class TaskQueries:
    """Reads of steps, tasks, artifacts, task metadata and lineage."""

    _db: SqlDatabase

    # -- shared lookups -------------------------------------------------------------

    def _require_run(self, q: Query, flow_name: str, run_id: str, pathspec: str = "") -> int:
        key = _notfound.run_key(run_id)
        if key is None or not q.one(
            "SELECT 1 FROM runs WHERE run_id = ? AND flow_name = ?", (key, flow_name)
        ):
            raise _notfound.run_not_found(q, flow_name, run_id, pathspec or None)
        return key

    def _require_runs(
        self, q: Query, tasks: Iterable[TaskLaunch | TaskOutcome]
    ) -> dict[tuple[str, str], int]:
        keys: dict[tuple[str, str], int] = {}
        for t in tasks:
            if (t.flow_name, t.run_id) not in keys:
                keys[(t.flow_name, t.run_id)] = self._require_run(
                    q, t.flow_name, t.run_id, t.pathspec
                )
        return keys

    def list_steps(self, flow_name: str, run_id: str) -> list[str]:
        with self._db.read() as q:
            return _notfound.steps_of_run(q, self._require_run(q, flow_name, run_id))

    def list_tasks(
        self, flow_name: str, run_id: str, step_name: str | None = None
    ) -> list[TaskRecord]:
        with self._db.read() as q:
            key = self._require_run(q, flow_name, run_id)
            step_clause, params = "", [key]  # type: tuple[str, list[object]]
            if step_name is not None:
                step_clause, params = " AND t.step_name = ?", [key, step_name]
            rows = q.all(
                f"SELECT {TASK_COLUMNS} FROM tasks t WHERE t.run_id = ?{step_clause}"
                f" AND {LATEST_ATTEMPT} {TASK_ORDER}",
                params,
            )
            if not rows and step_name is not None:
                raise _notfound.step_not_found(q, flow_name, run_id, key, step_name)
            return [task_record(flow_name, row) for row in rows]

    def get_task(
        self,
        flow_name: str,
        run_id: str,
        step_name: str,
        task_id: str,
        attempt: int | None = None,
    ) -> TaskRecord:
        with self._db.read() as q:
            return self._find_task(q, flow_name, run_id, step_name, task_id, attempt)

    def _find_task(
        self,
        q: Query,
        flow_name: str,
        run_id: str,
        step_name: str,
        task_id: str,
        attempt: int | None,
    ) -> TaskRecord:
        key = _notfound.run_key(run_id)
        attempt_clause, params = "", [flow_name, key, task_id]
        if attempt is not None:
            attempt_clause = " AND t.attempt = ?"
            params.append(attempt)
        row = q.one(
            f"SELECT {TASK_COLUMNS} FROM tasks t JOIN runs r ON r.run_id = t.run_id"
            f" WHERE r.flow_name = ? AND t.run_id = ? AND t.task_id = ?{attempt_clause}"
            " ORDER BY t.attempt DESC LIMIT 1",
            params,
        )
        if row is not None and row[1] == step_name:
            return task_record(flow_name, row)
        pathspec = f"{flow_name}/{run_id}/{step_name}/{task_id}"
        key = self._require_run(q, flow_name, run_id, pathspec)
        raise _notfound.task_not_found(q, flow_name, run_id, key, step_name, task_id, attempt)

    def list_artifacts(
        self,
        flow_name: str,
        run_id: str,
        step_name: str,
        task_id: str,
        attempt: int | None = None,
    ) -> dict[str, ArtifactRecord]:
        rows = self._attempt_rows(
            "SELECT name, blob_key, serializer, type_name, size, meta FROM artifacts",
            flow_name, run_id, step_name, task_id, attempt,
        )  # fmt: skip
        return {row[0]: ArtifactRecord(*row) for row in rows}

    def get_task_metadata(
        self,
        flow_name: str,
        run_id: str,
        step_name: str,
        task_id: str,
        attempt: int | None = None,
    ) -> dict[str, str]:
        rows = self._attempt_rows(
            "SELECT name, value FROM task_metadata", flow_name, run_id, step_name, task_id, attempt
        )
        return dict(rows)

    def _attempt_rows(
        self, select: str, flow_name: str, run_id: str, step_name: str, task_id: str,
        attempt: int | None,
    ) -> list[Any]:  # fmt: skip
        """The rows of ``select`` (``SELECT ... FROM table``) of one task attempt, by name."""
        with self._db.read() as q:
            task = self._find_task(q, flow_name, run_id, step_name, task_id, attempt)
            return q.all(
                f"{select} WHERE run_id = ? AND task_id = ? AND attempt = ? ORDER BY name",
                (int(task.run_id), task_id, task.attempt),
            )

    def parent_tasks(
        self, flow_name: str, run_id: str, step_name: str, task_id: str
    ) -> list[TaskRecord]:
        return self._lineage(flow_name, run_id, step_name, task_id, parents=True)

    def child_tasks(
        self, flow_name: str, run_id: str, step_name: str, task_id: str
    ) -> list[TaskRecord]:
        return self._lineage(flow_name, run_id, step_name, task_id, parents=False)

    def _lineage(
        self, flow_name: str, run_id: str, step_name: str, task_id: str, *, parents: bool
    ) -> list[TaskRecord]:
        # parents: rows where this task is the child; children: where it is the parent
        this, other = ("task_id", "parent_task_id") if parents else ("parent_task_id", "task_id")
        with self._db.read() as q:
            task = self._find_task(q, flow_name, run_id, step_name, task_id, None)
            key = int(task.run_id)
            rows = q.all(
                f"SELECT {TASK_COLUMNS} FROM tasks t WHERE t.run_id = ? AND t.task_id IN"
                f" (SELECT p.{other} FROM task_parents p WHERE p.run_id = ? AND p.{this} = ?)"
                f" AND {LATEST_ATTEMPT} {TASK_ORDER}",
                (key, key, task_id),
            )
        return [task_record(flow_name, row) for row in rows]

    def artifacts_of_tasks(
        self, flow_name: str, run_id: str, task_ids: Sequence[str]
    ) -> dict[str, dict[str, ArtifactRecord]]:
        """The artifacts of many tasks' latest attempts: task id -> name -> record."""
        found: dict[str, dict[str, ArtifactRecord]] = {task_id: {} for task_id in task_ids}
        with self._db.read() as q:
            key = self._require_run(q, flow_name, run_id)
            for start in range(0, len(task_ids), _CHUNK):
                chunk = list(task_ids[start : start + _CHUNK])
                marks = ", ".join("?" * len(chunk))
                rows = q.all(
                    "SELECT a.task_id, a.name, a.blob_key, a.serializer, a.type_name, a.size,"
                    " a.meta FROM artifacts a JOIN tasks t ON t.run_id = a.run_id"
                    " AND t.task_id = a.task_id AND t.attempt = a.attempt"
                    f" WHERE a.run_id = ? AND a.task_id IN ({marks}) AND {LATEST_ATTEMPT}",
                    (key, *chunk),
                )
                for task_id, *record in rows:
                    found[task_id][record[0]] = ArtifactRecord(*record)
        return found

    def readers_of(self, flow_name: str, run_id: str, name: str, blob_key: str) -> list[TaskRecord]:
        """The tasks of a run that read artifact ``name`` with this blob (latest attempts)."""
        with self._db.read() as q:
            key = self._require_run(q, flow_name, run_id)
            rows = q.all(
                f"SELECT {TASK_COLUMNS} FROM tasks t WHERE t.run_id = ? AND t.task_id IN"
                " (SELECT r.task_id FROM artifact_reads r WHERE r.run_id = ?"
                " AND r.blob_key = ? AND r.name = ?)"
                f" AND {LATEST_ATTEMPT} {TASK_ORDER}",
                (key, key, blob_key, name),
            )
        return [task_record(flow_name, row) for row in rows]
