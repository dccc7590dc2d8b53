"""The metadata schema, as an ordered list of migrations.

The SQL is portable (SQLite 3.35+ and PostgreSQL); the dialect fills two
placeholders: ``{serial_pk}``, the auto-incrementing primary key of ``runs``
(run ids come from it), and ``{clustered}``, the options of a table stored in
its primary key's order (SQLite: ``WITHOUT ROWID``, which halves the pages a
task's commit writes; PostgreSQL: nothing). A released migration is never edited: change
the schema by appending one.

Tables (every lookup the store makes is served by a primary key or an index):

- ``flows``: one row per flow name.
- ``runs``: one row per run; indexed by flow (newest first), status and user
  so ``latest_run`` is one index probe.
- ``run_tags``: user (``is_system = 0``) and system tags of a run.
- ``tasks``: one row per task attempt, keyed ``(run_id, task_id, attempt)``.
- ``task_parents``: lineage, both directions indexed.
- ``artifacts``: per task attempt, name -> blob key and how to read it.
- ``task_metadata``: per task attempt, name -> JSON text.
- ``artifact_reads``: per task attempt, the artifacts (name, blob key) it read
  from its parents; indexed by blob key to find an artifact's readers.
- ``api_tokens``: the UI server's accounts, one row per token: its user, the
  SHA-256 of its secret (unique: a sign-in is one index probe), when it was
  created, last used and revoked. The secret itself is never stored.
- ``ix_task_metadata_cache_key``: the ``cache_key`` entries of ``task_metadata``
  by value, so @cache finds an earlier task with the same key in one probe.
- ``deployments``, ``deployment_fires``, ``events``, ``leases``: what the local
  scheduler keeps (see ``_sql_deploy``): deployment versions (the active one
  indexed), each fire claimed once (fires not yet started: a partial index),
  published events in id order, and named leases.
- ``run_keys``: an orchestrator's id of a run (``argo-<workflow uid>``) -> the
  run's id, unique, so every task of one orchestrated run finds the same run
  and a retried start task does not make a second one.
"""

from __future__ import annotations

from typing import NamedTuple


class Migration(NamedTuple):  # a tuple: no dataclass to build each time a process opens a store
    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "initial schema",
        (
            """CREATE TABLE flows (
                name TEXT PRIMARY KEY,
                created_at DOUBLE PRECISION NOT NULL
            )""",
            """CREATE TABLE runs (
                run_id {serial_pk},
                flow_name TEXT NOT NULL,
                user_name TEXT NOT NULL,
                status TEXT NOT NULL,
                parameters TEXT NOT NULL,
                started_at DOUBLE PRECISION NOT NULL,
                finished_at DOUBLE PRECISION,
                heartbeat_at DOUBLE PRECISION NOT NULL,
                pid INTEGER,
                host TEXT,
                origin_run_id TEXT,
                code_key TEXT,
                error TEXT
            )""",
            "CREATE INDEX ix_runs_flow ON runs (flow_name, run_id)",
            "CREATE INDEX ix_runs_flow_status ON runs (flow_name, status, run_id)",
            "CREATE INDEX ix_runs_flow_user ON runs (flow_name, user_name, run_id)",
            "CREATE INDEX ix_runs_flow_user_status ON runs (flow_name, user_name, status, run_id)",
            """CREATE TABLE run_tags (
                run_id BIGINT NOT NULL,
                is_system SMALLINT NOT NULL,
                tag TEXT NOT NULL,
                PRIMARY KEY (run_id, is_system, tag)
            ){clustered}""",
            "CREATE INDEX ix_run_tags_tag ON run_tags (tag, run_id)",
            """CREATE TABLE tasks (
                run_id BIGINT NOT NULL,
                task_id TEXT NOT NULL,
                attempt INTEGER NOT NULL,
                step_name TEXT NOT NULL,
                status TEXT NOT NULL,
                started_at DOUBLE PRECISION NOT NULL,
                finished_at DOUBLE PRECISION,
                foreach_stack TEXT NOT NULL,
                foreach_index INTEGER,
                exception TEXT,
                origin_pathspec TEXT,
                next_steps TEXT NOT NULL,
                split_count INTEGER,
                PRIMARY KEY (run_id, task_id, attempt)
            ){clustered}""",
            "CREATE INDEX ix_tasks_step ON tasks (run_id, step_name)",
            """CREATE TABLE task_parents (
                run_id BIGINT NOT NULL,
                task_id TEXT NOT NULL,
                parent_task_id TEXT NOT NULL,
                PRIMARY KEY (run_id, task_id, parent_task_id)
            ){clustered}""",
            "CREATE INDEX ix_task_parents_parent ON task_parents (run_id, parent_task_id, task_id)",
            """CREATE TABLE artifacts (
                run_id BIGINT NOT NULL,
                task_id TEXT NOT NULL,
                attempt INTEGER NOT NULL,
                name TEXT NOT NULL,
                blob_key TEXT NOT NULL,
                serializer TEXT NOT NULL,
                type_name TEXT NOT NULL,
                size BIGINT NOT NULL,
                meta TEXT NOT NULL,
                PRIMARY KEY (run_id, task_id, attempt, name)
            ){clustered}""",
            """CREATE TABLE task_metadata (
                run_id BIGINT NOT NULL,
                task_id TEXT NOT NULL,
                attempt INTEGER NOT NULL,
                name TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (run_id, task_id, attempt, name)
            ){clustered}""",
        ),
    ),
    Migration(
        2,
        "artifact reads: which task read which artifact",
        (
            """CREATE TABLE artifact_reads (
                run_id BIGINT NOT NULL,
                task_id TEXT NOT NULL,
                attempt INTEGER NOT NULL,
                name TEXT NOT NULL,
                blob_key TEXT NOT NULL,
                PRIMARY KEY (run_id, task_id, attempt, name, blob_key)
            ){clustered}""",
            "CREATE INDEX artifact_reads_by_blob ON artifact_reads (run_id, blob_key, name)",
        ),
    ),
    Migration(
        3,
        "runs: the datastore that holds the run's blobs (a local path or s3://bucket/prefix)",
        ("ALTER TABLE runs ADD COLUMN datastore TEXT",),
    ),
    Migration(
        4,
        "api tokens: the accounts of the UI server (only the hash of each secret)",
        (
            """CREATE TABLE api_tokens (
                token_id TEXT PRIMARY KEY,
                user_name TEXT NOT NULL,
                token_hash TEXT NOT NULL UNIQUE,
                note TEXT,
                created_at DOUBLE PRECISION NOT NULL,
                last_used_at DOUBLE PRECISION,
                revoked_at DOUBLE PRECISION
            )""",
            "CREATE INDEX ix_api_tokens_user ON api_tokens (user_name, created_at)",
        ),
    ),
    Migration(
        5,
        "@cache: task metadata 'cache_key' by value (a partial index: those rows only)",
        (
            "CREATE INDEX ix_task_metadata_cache_key ON task_metadata (value)"
            " WHERE name = 'cache_key'",
        ),
    ),
    Migration(
        6,
        "the local scheduler: deployments (versioned), fires claimed once, events, leases",
        (
            """CREATE TABLE deployments (
                name TEXT NOT NULL,
                version INTEGER NOT NULL,
                flow_name TEXT NOT NULL,
                spec TEXT NOT NULL,
                deployed_by TEXT NOT NULL,
                deployed_at DOUBLE PRECISION NOT NULL,
                active INTEGER NOT NULL,
                PRIMARY KEY (name, version)
            ){clustered}""",
            "CREATE INDEX ix_deployments_active ON deployments (name) WHERE active = 1",
            """CREATE TABLE deployment_fires (
                deployment TEXT NOT NULL,
                fire_key TEXT NOT NULL,
                version INTEGER NOT NULL,
                claimed_by TEXT NOT NULL,
                claimed_at DOUBLE PRECISION NOT NULL,
                trigger TEXT NOT NULL,
                run_id TEXT,
                PRIMARY KEY (deployment, fire_key)
            ){clustered}""",
            "CREATE INDEX ix_deployment_fires_unstarted ON deployment_fires (deployment)"
            " WHERE run_id IS NULL",
            """CREATE TABLE events (
                event_id {serial_pk},
                name TEXT NOT NULL,
                payload TEXT NOT NULL,
                published_by TEXT NOT NULL,
                published_at DOUBLE PRECISION NOT NULL
            )""",
            """CREATE TABLE leases (
                name TEXT PRIMARY KEY,
                holder TEXT NOT NULL,
                expires_at DOUBLE PRECISION NOT NULL
            )""",
        ),
    ),
    Migration(
        7,
        "run keys: an orchestrator's id of a run (Argo, Airflow) -> the run it is, unique",
        (
            """CREATE TABLE run_keys (
                run_key TEXT PRIMARY KEY,
                flow_name TEXT NOT NULL,
                run_id BIGINT NOT NULL
            ){clustered}""",
        ),
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version

CREATE_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at DOUBLE PRECISION NOT NULL
)"""
