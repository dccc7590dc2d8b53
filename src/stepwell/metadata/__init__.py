"""Metadata: the record of every run, task, artifact and lineage link.

:class:`MetadataStore` is the interface; :class:`SqliteMetadataStore` (one
embedded SQLite file, the default) and :class:`PostgresMetadataStore` (one
database shared by a team) implement it on the same schema and queries.
:func:`open_metadata` opens the one a setting names (``local`` or a
``postgresql://`` URL). Records are immutable: the run, task and artifact records
that reads return are named tuples (a read imports no ``dataclasses``), the others
frozen dataclasses.

Rules its modules keep:

- The SQL is written once, portably (``_sql.py``): standard SQL plus
  ``INSERT ... ON CONFLICT`` and ``RETURNING``, ``?`` placeholders rewritten in
  one place (``SqlDatabase.sql``). Dialect specifics live in the backend's
  connection setup and a few class attributes (``_sqlite.py``).
- No SQLAlchemy: importing it costs 100+ ms, and a whole start-to-end run
  must finish in about 250 ms. The stdlib ``sqlite3`` (and psycopg 3 for
  PostgreSQL, imported only when a ``postgresql://`` store is opened) are used
  directly.
- Every write is one transaction, opened so that it takes the write lock at
  once (``BEGIN IMMEDIATE`` in SQLite). A finished task is one transaction,
  and ``record_tasks`` records many in one.
- Every lookup is served by a primary key or an index; no query reads all
  runs. ``latest_run`` is one index probe.
- Connections are per process, opened lazily; a forked child opens its own.
- The schema is versioned (``schema_version`` table); ``_schema.MIGRATIONS``
  is applied in one transaction: by SQLite when a connection opens, by
  PostgreSQL only on ``stepwell db upgrade`` (a shared database changes
  deliberately). A database newer than the code is refused.
- Timestamps are UTC epoch seconds as ``float``; the clock is injected.
- Unknown objects raise :class:`~stepwell.exceptions.NotFoundError` naming the
  pathspec and the closest existing names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stepwell._lazy import lazy_attributes
from stepwell.metadata._base import MetadataStore
from stepwell.metadata._open import (
    is_local,
    open_configured_metadata,
    open_metadata,
    register_metadata,
)
from stepwell.metadata._open import redact as redact_url
from stepwell.metadata._records import ArtifactRecord, RunRecord, RunStatus, TaskRecord, TaskStatus

if TYPE_CHECKING:
    from stepwell.metadata._launches import TaskLaunch, TaskOutcome
    from stepwell.metadata._postgres import PostgresMetadataStore
    from stepwell.metadata._service_records import (
        DeploymentRecord,
        EventRecord,
        FireRecord,
        TokenRecord,
    )
    from stepwell.metadata._sqlite import SqliteMetadataStore

__all__ = [
    "ArtifactRecord",
    "DeploymentRecord",
    "EventRecord",
    "FireRecord",
    "MetadataStore",
    "PostgresMetadataStore",
    "RunRecord",
    "RunStatus",
    "SqliteMetadataStore",
    "TaskLaunch",
    "TaskOutcome",
    "TaskRecord",
    "TaskStatus",
    "TokenRecord",
    "is_local",
    "open_configured_metadata",
    "open_metadata",
    "redact_url",
    "register_metadata",
]


#: Imported when first used: the backends (sqlite3, psycopg) and the records that
#: only writers and services build, so that reading runs does not pay for them.
__getattr__ = lazy_attributes(__name__, {
    "SqliteMetadataStore": "_sqlite", "PostgresMetadataStore": "_postgres",  # psycopg: [postgres]
    "TaskLaunch": "_launches", "TaskOutcome": "_launches",
    "TokenRecord": "_service_records", "DeploymentRecord": "_service_records",
    "EventRecord": "_service_records", "FireRecord": "_service_records",
})  # fmt: skip
