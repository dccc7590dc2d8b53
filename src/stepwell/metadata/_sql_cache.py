"""The @cache lookup of the SQL metadata store (a mixin of ``SqlMetadataStore``).

A task that ran a ``@cache`` step records its key as task metadata
``cache_key``; a later run asks for the newest successful task with that key.
The lookup is one probe of a partial index on ``task_metadata (value)`` where
``name = 'cache_key'`` (migration 5): the literal name in the query is what
lets both SQLite and PostgreSQL use that index.
"""

from __future__ import annotations

import json

from stepwell.metadata._database import SqlDatabase
from stepwell.metadata._records import TaskRecord
from stepwell.metadata._rows import TASK_COLUMNS, task_record

#: The task metadata entry that holds a @cache step's key (JSON text: a string).
CACHE_KEY = "cache_key"


class CacheQueries:
    """``find_cached_task``: the newest successful task of a step with a cache key."""

    _db: SqlDatabase

    def find_cached_task(
        self, flow_name: str, step_name: str, cache_key: str, *, since: float | None = None
    ) -> TaskRecord | None:
        since_clause = ""
        params: list[object] = [json.dumps(cache_key), flow_name, step_name]
        if since is not None:
            since_clause = " AND t.finished_at >= ?"
            params.append(since)
        with self._db.read() as q:
            row = q.one(
                f"SELECT {TASK_COLUMNS} FROM task_metadata m"
                " JOIN tasks t ON t.run_id = m.run_id AND t.task_id = m.task_id"
                " AND t.attempt = m.attempt JOIN runs r ON r.run_id = t.run_id"
                f" WHERE m.name = '{CACHE_KEY}' AND m.value = ? AND r.flow_name = ?"
                f" AND t.step_name = ? AND t.status = 'succeeded'{since_clause}"
                " ORDER BY t.finished_at DESC, t.run_id DESC LIMIT 1",
                params,
            )
        return None if row is None else task_record(flow_name, row)
