"""The metadata store over any SQL database: every query, written once, portably.

Queries use ``?`` placeholders (rewritten by the database object for other
drivers), standard SQL plus ``INSERT ... ON CONFLICT`` and ``RETURNING``
(SQLite 3.35+ and PostgreSQL both have them), and only indexed lookups.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from stepwell.exceptions import MetadataError
from stepwell.metadata import _notfound
from stepwell.metadata._base import MetadataStore
from stepwell.metadata._database import Query, SqlDatabase
from stepwell.metadata._liveness import SCHEDULER_DIED, derive_status, local_hostname
from stepwell.metadata._records import FINISHED_STATUSES, RunRecord
from stepwell.metadata._rows import (
    RUN_COLUMNS,
    RUN_STATUSES,
    artifact_rows,
    check_name,
    check_tags,
    check_task_ids,
    load_tags,
    metadata_rows,
    outcome_row,
    parent_rows,
    read_rows,
    run_filters,
)
from stepwell.metadata._sql_accounts import AccountQueries
from stepwell.metadata._sql_cache import CacheQueries
from stepwell.metadata._sql_deploy import DeploymentQueries
from stepwell.metadata._sql_gc import GcQueries
from stepwell.metadata._sql_tasks import TaskQueries

if TYPE_CHECKING:
    from stepwell.metadata._launches import TaskLaunch, TaskOutcome


class SqlMetadataStore(
    AccountQueries, CacheQueries, DeploymentQueries, GcQueries, TaskQueries, MetadataStore
):
    """A :class:`MetadataStore` on a :class:`SqlDatabase` (the backends subclass it).

    Args:
        database: the database (connection per process, dialect).
        heartbeat_timeout: seconds without heartbeat after which a running
            run is reported as failed ("scheduler died").
        clock: returns the current UTC epoch time in seconds.
    """

    def __init__(
        self,
        database: SqlDatabase,
        *,
        heartbeat_timeout: float = 60.0,
        clock: Callable[[], float],
    ) -> None:
        self._db = database
        self._heartbeat_timeout = heartbeat_timeout
        self._clock = clock
        self._host = local_hostname()

    def close(self) -> None:
        self._db.close()

    def describe(self) -> str:
        """Names the database ("The SQLite metadata database at ...")."""
        return self._db.describe()

    def check(self) -> None:
        self._db.check()

    def schema_version(self) -> int:
        """The schema version of the database (0: no stepwell schema yet)."""
        return self._db.schema_version()

    def upgrade(self) -> tuple[int, int]:
        """Create or upgrade the schema (``stepwell db upgrade``); versions before and after."""
        return self._db.upgrade()

    # -- runs: writes -----------------------------------------------------------

    def new_run(
        self,
        flow_name: str,
        *,
        user: str,
        tags: Sequence[str],
        system_tags: Sequence[str],
        parameters: Mapping[str, str],
        pid: int | None,
        host: str | None,
        origin_run_id: str | None = None,
        code_key: str | None = None,
        run_id: str | None = None,
        datastore: str | None = None,
        run_key: str | None = None,
    ) -> str:
        check_name("flow name", flow_name)
        if run_key is not None:
            check_name("run key", run_key)
        explicit = _explicit_run_id(run_id)
        user_tags, sys_tags = check_tags(tags), check_tags(system_tags)
        for name, value in parameters.items():
            if not isinstance(value, str):
                raise MetadataError(
                    f"Parameter {name!r} of {flow_name} must be given as JSON text, "
                    f"not {type(value).__name__}.",
                    parameter=name,
                )
        now = self._clock()
        try:
            return self._insert_run(
                flow_name, explicit, run_id, run_key, user_tags, sys_tags, now,
                (user, json.dumps(dict(parameters), sort_keys=True), now, now, pid, host,
                 origin_run_id, code_key, datastore),
            )  # fmt: skip
        except _KeyTaken:  # another task created the run of this key first: that one it is
            existing = self.run_id_of_key(flow_name, str(run_key))
            assert existing is not None
            return existing

    def _insert_run(
        self,
        flow_name: str,
        explicit: int | None,
        run_id: str | None,
        run_key: str | None,
        user_tags: Sequence[str],
        sys_tags: Sequence[str],
        now: float,
        row_values: tuple[Any, ...],
    ) -> str:
        with self._db.write() as q:
            if run_key is not None:
                found = self._keyed_run(q, flow_name, run_key)
                if found is not None:
                    return found
            q.run(
                "INSERT INTO flows (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                (flow_name, now),
            )
            if explicit is not None and q.one("SELECT 1 FROM runs WHERE run_id = ?", (explicit,)):
                raise MetadataError(
                    f"Run id {run_id} is taken; run ids are unique across flows. Choose another.",
                    run_id=run_id,
                )
            columns = "flow_name, user_name, status, parameters, started_at, heartbeat_at, pid,"
            values: tuple[Any, ...] = (flow_name, *row_values)
            marks = "?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?"
            if explicit is not None:  # the caller's id (a serial column accepts it)
                columns, marks, values = "run_id, " + columns, "?, " + marks, (explicit, *values)
            row = q.one(
                f"INSERT INTO runs ({columns} host, origin_run_id, code_key, datastore)"
                f" VALUES ({marks}) RETURNING run_id",
                values,
            )
            key = int(row[0])
            if explicit is not None:
                self._db.claim_run_id(q, key)
            q.send(
                "INSERT INTO run_tags (run_id, is_system, tag) VALUES (?, ?, ?)",
                [(key, 0, t) for t in user_tags] + [(key, 1, t) for t in sys_tags],
            )
            if run_key is not None and not q.one(
                "INSERT INTO run_keys (run_key, flow_name, run_id) VALUES (?, ?, ?)"
                " ON CONFLICT (run_key) DO NOTHING RETURNING run_id",
                (run_key, flow_name, key),
            ):
                raise _KeyTaken  # rolls this run back
        return str(key)

    def run_id_of_key(self, flow_name: str, run_key: str) -> str | None:
        with self._db.read() as q:
            return self._keyed_run(q, flow_name, run_key)

    def _keyed_run(self, q: Query, flow_name: str, run_key: str) -> str | None:
        row = q.one("SELECT flow_name, run_id FROM run_keys WHERE run_key = ?", (run_key,))
        if row is None:
            return None
        if row[0] != flow_name:
            raise MetadataError(
                f"Run key {run_key!r} belongs to run {row[0]}/{row[1]}, not to a run of "
                f"{flow_name}; an orchestrator's run id names one flow's run.",
                run_key=run_key,
            )
        return str(row[1])

    def heartbeat(self, flow_name: str, run_id: str) -> None:
        with self._db.write() as q:
            changed = q.run(
                "UPDATE runs SET heartbeat_at = ? WHERE run_id = ? AND flow_name = ?",
                (self._clock(), _notfound.run_key(run_id), flow_name),
            )
            if not changed:
                raise _notfound.run_not_found(q, flow_name, run_id)

    def finish_run(
        self, flow_name: str, run_id: str, status: str, *, error: str | None = None
    ) -> None:
        if status not in FINISHED_STATUSES:
            raise MetadataError(
                f"Cannot finish run {flow_name}/{run_id} with status {status!r}: "
                f"expected one of {', '.join(FINISHED_STATUSES)}.",
                status=status,
            )
        now = self._clock()
        with self._db.write() as q:
            changed = q.run(
                "UPDATE runs SET status = ?, finished_at = ?, heartbeat_at = ?, error = ?"
                " WHERE run_id = ? AND flow_name = ? AND status = 'running'",
                (status, now, now, error, _notfound.run_key(run_id), flow_name),
            )
            if not changed:
                key = self._require_run(q, flow_name, run_id)
                current = q.one("SELECT status FROM runs WHERE run_id = ?", (key,))[0]
                raise MetadataError(
                    f"Run {flow_name}/{run_id} already finished as '{current}'; "
                    f"it cannot be finished again as '{status}'.",
                    pathspec=f"{flow_name}/{run_id}",
                )

    def add_tags(self, flow_name: str, run_id: str, tags: Sequence[str]) -> None:
        new = check_tags(tags)
        with self._db.write() as q:
            key = self._require_run(q, flow_name, run_id)
            q.send(
                "INSERT INTO run_tags (run_id, is_system, tag) VALUES (?, 0, ?)"
                " ON CONFLICT (run_id, is_system, tag) DO NOTHING",
                [(key, tag) for tag in new],
            )

    def remove_tags(self, flow_name: str, run_id: str, tags: Sequence[str]) -> None:
        gone = check_tags(tags)
        with self._db.write() as q:
            key = self._require_run(q, flow_name, run_id)
            user_tags, system_tags = load_tags(q, [key]).get(key, ((), ()))
            immutable = [t for t in gone if t in system_tags and t not in user_tags]
            if immutable:
                raise MetadataError(
                    f"Cannot remove system tag(s) {', '.join(map(repr, immutable))} from run "
                    f"{flow_name}/{run_id}: system tags are immutable; only user tags "
                    f"({', '.join(user_tags) or 'none'}) can be removed.",
                    pathspec=f"{flow_name}/{run_id}",
                    tags=immutable,
                )
            q.send(
                "DELETE FROM run_tags WHERE run_id = ? AND is_system = 0 AND tag = ?",
                [(key, tag) for tag in gone],
            )

    # -- tasks: writes ----------------------------------------------------------

    def register_task(self, launch: TaskLaunch) -> None:
        self.register_tasks([launch])

    def register_tasks(self, launches: Sequence[TaskLaunch]) -> None:
        if not launches:
            return
        for launch in launches:
            check_task_ids(launch)
        now = self._clock()
        with self._db.write() as q:
            keys = self._require_runs(q, launches)
            rows = [
                (
                    keys[(t.flow_name, t.run_id)],
                    t.task_id,
                    t.attempt,
                    t.step_name,
                    now if t.started_at is None else t.started_at,
                    t.foreach_stack,
                    t.index,
                )
                for t in launches
            ]
            changed = q.many(
                "INSERT INTO tasks (run_id, task_id, attempt, step_name, status, started_at,"
                " foreach_stack, foreach_index, next_steps)"
                " VALUES (?, ?, ?, ?, 'running', ?, ?, ?, '[]')"
                " ON CONFLICT (run_id, task_id, attempt) DO UPDATE SET step_name = tasks.step_name"
                " WHERE tasks.step_name = excluded.step_name",
                rows,
            )
            if changed != len(rows):
                self._raise_step_conflict(q, launches, keys)
            self._insert_parents(q, keys, launches)

    def record_task(self, outcome: TaskOutcome) -> None:
        self.record_tasks([outcome])

    def record_tasks(self, outcomes: Sequence[TaskOutcome]) -> None:
        if not outcomes:
            return
        for outcome in outcomes:
            check_task_ids(outcome)
            if outcome.status not in FINISHED_STATUSES:
                raise MetadataError(
                    f"Cannot record task {outcome.pathspec} with status {outcome.status!r}: "
                    f"expected one of {', '.join(FINISHED_STATUSES)}.",
                    pathspec=outcome.pathspec,
                )
        now = self._clock()
        with self._db.write() as q:
            keys = self._require_runs(q, outcomes)
            changed = q.many(
                "INSERT INTO tasks (run_id, task_id, attempt, step_name, status, started_at,"
                " finished_at, foreach_stack, foreach_index, exception, origin_pathspec,"
                " next_steps, split_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (run_id, task_id, attempt) DO UPDATE SET"
                " status = excluded.status, finished_at = excluded.finished_at,"
                " foreach_stack = excluded.foreach_stack, foreach_index = excluded.foreach_index,"
                " exception = excluded.exception, origin_pathspec = excluded.origin_pathspec,"
                " next_steps = excluded.next_steps, split_count = excluded.split_count"
                " WHERE tasks.step_name = excluded.step_name",
                [outcome_row(keys, o, now) for o in outcomes],
            )
            if changed != len(outcomes):
                self._raise_step_conflict(q, outcomes, keys)
            self._insert_parents(q, keys, outcomes)
            q.send(
                "INSERT INTO artifacts (run_id, task_id, attempt, name, blob_key, serializer,"
                " type_name, size, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (run_id, task_id, attempt, name) DO UPDATE SET"
                " blob_key = excluded.blob_key, serializer = excluded.serializer,"
                " type_name = excluded.type_name, size = excluded.size, meta = excluded.meta",
                artifact_rows(keys, outcomes),
            )
            q.send(
                "INSERT INTO task_metadata (run_id, task_id, attempt, name, value)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (run_id, task_id, attempt, name)"
                " DO UPDATE SET value = excluded.value",
                metadata_rows(keys, outcomes),
            )
            q.send(
                "INSERT INTO artifact_reads (run_id, task_id, attempt, name, blob_key)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                read_rows(keys, outcomes),
            )

    @staticmethod
    def _insert_parents(
        q: Query,
        keys: dict[tuple[str, str], int],
        tasks: Iterable[TaskLaunch | TaskOutcome],
    ) -> None:
        q.send(
            "INSERT INTO task_parents (run_id, task_id, parent_task_id) VALUES (?, ?, ?)"
            " ON CONFLICT (run_id, task_id, parent_task_id) DO NOTHING",
            parent_rows(keys, tasks),
        )

    def _raise_step_conflict(
        self,
        q: Query,
        tasks: Sequence[TaskLaunch | TaskOutcome],
        keys: dict[tuple[str, str], int],
    ) -> None:
        for t in tasks:
            row = q.one(
                "SELECT step_name FROM tasks WHERE run_id = ? AND task_id = ? AND attempt = ?",
                (keys[(t.flow_name, t.run_id)], t.task_id, t.attempt),
            )
            if row is not None and row[0] != t.step_name:
                raise MetadataError(
                    f"Task id {t.task_id} of run {t.flow_name}/{t.run_id} is already used by "
                    f"step '{row[0]}'; it cannot also be {t.pathspec}. "
                    "Task ids must be unique within a run.",
                    pathspec=t.pathspec,
                )
        raise MetadataError(f"Recording {len(tasks)} task(s) changed an unexpected number of rows.")

    # -- rows to records ------------------------------------------------------------

    def _run_record(self, row: Any, tags: tuple[tuple[str, ...], tuple[str, ...]]) -> RunRecord:
        (key, flow, user, status, params, started, finished, beat, pid, host) = row[:10]
        origin, code_key, error, datastore = row[10:]
        reported, died = derive_status(
            status,
            beat,
            host,
            pid,
            now=self._clock(),
            timeout=self._heartbeat_timeout,
            this_host=self._host,
        )
        return RunRecord(
            flow_name=flow,
            run_id=str(key),
            status=reported,  # type: ignore[arg-type]
            user=user,
            tags=tags[0],
            system_tags=tags[1],
            parameters=json.loads(params),
            started_at=started,
            finished_at=finished,
            heartbeat_at=beat,
            pid=pid,
            host=host,
            origin_run_id=origin,
            code_key=code_key,
            error=SCHEDULER_DIED if died else error,
            datastore=datastore,
        )

    # -- reads: runs ----------------------------------------------------------------

    def get_run(self, flow_name: str, run_id: str) -> RunRecord:
        with self._db.read() as q:
            row = q.one(
                f"SELECT {RUN_COLUMNS} FROM runs r WHERE r.run_id = ? AND r.flow_name = ?",
                (_notfound.run_key(run_id), flow_name),
            )
            if row is None:
                raise _notfound.run_not_found(q, flow_name, run_id)
            return self._run_record(row, load_tags(q, [row[0]])[row[0]])

    def list_runs(
        self,
        flow_name: str,
        *,
        limit: int | None = None,
        offset: int = 0,
        status: str | None = None,
        tags: Sequence[str] = (),
        user: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> list[RunRecord]:
        if status is not None and status not in RUN_STATUSES:
            raise MetadataError(
                f"Cannot list runs of {flow_name} with status {status!r}: "
                f"expected one of {', '.join(RUN_STATUSES)}.",
                status=status,
            )
        if (limit is not None and limit < 0) or offset < 0:
            raise MetadataError(f"Invalid page: limit={limit!r}, offset={offset!r}.")
        where, params = run_filters(flow_name, user, since, until, check_tags(tags))
        with self._db.read() as q:
            if status is None or status == "succeeded":  # as stored: no liveness check
                if status:
                    where.append("r.status = 'succeeded'")
                sql = f"SELECT {RUN_COLUMNS} FROM runs r WHERE {' AND '.join(where)}"
                sql += " ORDER BY r.run_id DESC"
                if limit is not None or offset:
                    sql += " LIMIT ? OFFSET ?"
                    params += [self._db.no_limit if limit is None else limit, offset]
                rows = q.all(sql, params)
            else:
                rows = self._live_filtered(q, where, params, status, limit, offset)
            if not rows and not q.one("SELECT 1 FROM flows WHERE name = ?", (flow_name,)):
                raise _notfound.flow_not_found(q, flow_name)
            tags_of = load_tags(q, [row[0] for row in rows])
            return [self._run_record(row, tags_of[row[0]]) for row in rows]

    def _live_filtered(
        self,
        q: Query,
        where: list[str],
        params: list[Any],
        status: str,
        limit: int | None,
        offset: int,
    ) -> list[Any]:
        """Rows, newest first, whose *reported* status (liveness included) is ``status``.

        Candidates come from index-ordered streams per stored status, so a page
        costs about what it returns: stored ``running`` runs (heartbeat fresh)
        for ``running``; stored ``failed`` merged with stored ``running`` for
        ``failed``.
        """
        sql = f"SELECT {RUN_COLUMNS} FROM runs r WHERE {' AND '.join(where)} AND r.status = ?"
        order = " ORDER BY r.run_id DESC"
        batch = 256 if limit is None else min(max(limit + offset, 1), 256)
        if status == "running":
            cutoff = self._clock() - self._heartbeat_timeout
            candidates: Iterable[Any] = q.stream(
                sql + " AND r.heartbeat_at >= ?" + order, [*params, "running", cutoff], batch
            )
        else:
            candidates = heapq.merge(
                q.stream(sql + order, [*params, "failed"], batch),
                q.stream(sql + order, [*params, "running"], batch),
                key=lambda row: row[0],
                reverse=True,
            )
        kept: list[Any] = []
        no_tags: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
        for row in candidates:
            if limit is not None and len(kept) >= limit:
                break
            if self._run_record(row, no_tags).status != status:
                continue
            if offset:
                offset -= 1
            else:
                kept.append(row)
        return kept

    def latest_run(
        self, flow_name: str, *, successful_only: bool = False, user: str | None = None
    ) -> RunRecord | None:
        where, params = ["r.flow_name = ?"], [flow_name]
        if user is not None:
            where.append("r.user_name = ?")
            params.append(user)
        if successful_only:
            where.append("r.status = 'succeeded'")
        with self._db.read() as q:
            row = q.one(
                f"SELECT {RUN_COLUMNS} FROM runs r WHERE {' AND '.join(where)}"
                " ORDER BY r.run_id DESC LIMIT 1",
                params,
            )
            if row is None:
                if not q.one("SELECT 1 FROM flows WHERE name = ?", (flow_name,)):
                    raise _notfound.flow_not_found(q, flow_name)
                return None
            return self._run_record(row, load_tags(q, [row[0]])[row[0]])

    def list_flows(self) -> list[str]:
        with self._db.read() as q:
            return [row[0] for row in q.all("SELECT name FROM flows ORDER BY name")]

    # -- reads: steps and tasks -----------------------------------------------------


class _KeyTaken(Exception):
    """Raised inside the write transaction: the run key was recorded meanwhile."""


def _explicit_run_id(run_id: str | None) -> int | None:
    """A run id chosen by the caller: a positive whole number, or None for the next one."""
    if run_id is None:
        return None
    if not str(run_id).isdigit() or int(run_id) < 1:
        raise MetadataError(f"Run id {run_id!r} is not valid: use a positive whole number.")
    return int(run_id)
