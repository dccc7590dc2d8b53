"""Garbage collection in the SQL metadata store (a mixin of ``SqlMetadataStore``).

Two operations, both in bounded pieces so neither a writer nor memory waits
on the whole store:

- :meth:`GcQueries.delete_runs` removes runs and every row of theirs, one
  transaction per call (the collector calls it for a few hundred runs at a
  time). Every table is keyed by ``run_id`` first, so each delete is a range
  of a primary key. A run still running (stored ``running`` with a fresh
  heartbeat) is never deleted, whatever the caller asks.
- :meth:`GcQueries.blob_references` yields every blob key the records refer
  to, reading the runs in chunks of ids: the mark phase of the collector.
  It is the one place that reads every run, by design.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any

from stepwell.metadata._database import Query, SqlDatabase

#: Run ids per IN (...) list: under SQLite's and PostgreSQL's parameter limits.
_CHUNK = 500
#: A blob key: the hex BLAKE3 digest the content store names blobs by.
_BLOB_KEY = re.compile(r"[0-9a-f]{64}")
#: Tables holding rows of a run, children first (runs last: a run is gone when its row is).
_RUN_TABLES = ("artifact_reads", "artifacts", "task_metadata", "task_parents", "tasks", "run_tags")


class GcQueries:
    """Deleting runs and listing the blob keys that runs refer to."""

    _db: SqlDatabase
    _clock: Callable[[], float]
    _heartbeat_timeout: float

    def delete_runs(self, flow_name: str, run_ids: Sequence[str]) -> list[str]:
        keys = sorted({int(r) for r in run_ids if str(r).isdigit()})
        if not keys:
            return []
        fresh = self._clock() - self._heartbeat_timeout
        deleted: list[int] = []
        with self._db.write() as q:
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start : start + _CHUNK]
                marks = ", ".join("?" * len(chunk))
                rows = q.all(
                    f"SELECT run_id FROM runs WHERE flow_name = ? AND run_id IN ({marks})"
                    " AND (status <> 'running' OR heartbeat_at < ?)",
                    (flow_name, *chunk, fresh),
                )
                doomed = sorted(int(row[0]) for row in rows)
                if doomed:
                    _delete_rows(q, doomed)
                deleted += doomed
        return [str(key) for key in deleted]

    def blob_references(self, *, exclude: Collection[str] = ()) -> Iterator[str]:
        skip = {int(r) for r in exclude if str(r).isdigit()}
        with self._db.read() as q:
            rows = q.all("SELECT run_id, code_key FROM runs ORDER BY run_id")
            keys = [int(row[0]) for row in rows if int(row[0]) not in skip]
            yield from (row[1] for row in rows if row[1] and int(row[0]) not in skip)
            newest = int(rows[-1][0]) if rows else 0
            del rows
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start : start + _CHUNK]
                yield from _chunk_references(q, f"IN ({', '.join('?' * len(chunk))})", chunk)
        # runs begun since the list above (their ids are higher): read in a transaction of
        # their own, so a run that committed meanwhile is seen
        with self._db.read() as q:
            late = [
                row
                for row in q.all("SELECT run_id, code_key FROM runs WHERE run_id > ?", (newest,))
                if int(row[0]) not in skip
            ]
            yield from (row[1] for row in late if row[1])
            for row in late:
                yield from _chunk_references(q, "= ?", [int(row[0])])


def _delete_rows(q: Query, keys: list[int]) -> None:
    marks = ", ".join("?" * len(keys))
    for table in _RUN_TABLES:
        q.run(f"DELETE FROM {table} WHERE run_id IN ({marks})", keys)
    q.run(f"DELETE FROM runs WHERE run_id IN ({marks})", keys)


def _chunk_references(q: Query, where: str, params: Sequence[Any]) -> Iterator[str]:
    """The blob keys the rows of some runs (``run_id <where>``) refer to (may repeat)."""
    for table in ("artifacts", "artifact_reads"):
        for row in q.all(f"SELECT DISTINCT blob_key FROM {table} WHERE run_id {where}", params):
            yield row[0]
    for row in q.all(
        f"SELECT value FROM task_metadata WHERE run_id {where} AND length(value) >= 64", params
    ):
        yield from _BLOB_KEY.findall(row[0])
