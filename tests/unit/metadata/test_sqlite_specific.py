"""What only the SQLite store promises: concurrency, migrations, fork safety, plans.

This is the one unit-test module that starts processes (fork context).
"""

from __future__ import annotations

import multiprocessing
import os
import re
import sqlite3
import sys

import pytest

from stepwell.exceptions import MetadataError
from stepwell.metadata import ArtifactRecord, SqliteMetadataStore, TaskLaunch
from stepwell.metadata._schema import LATEST_VERSION, MIGRATIONS
from stepwell.testing.metadata_conformance import FLOW, new_run, outcome, write_a_run

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs os.fork")

WRITERS = 8
TASKS_PER_WRITER = 200
BATCH = 25


def _writer(path: str, number: int, results: multiprocessing.Queue) -> None:
    """Create a run and record its tasks; odd writers record them in batches."""
    results.put((number, write_a_run(SqliteMetadataStore(path), number, TASKS_PER_WRITER, BATCH)))


def test_concurrent_writer_processes_lose_nothing(tmp_path):
    path = str(tmp_path / "stepwell.db")  # fresh: the writers also race to create the schema
    ctx = multiprocessing.get_context("fork")
    results: multiprocessing.Queue = ctx.Queue()
    workers = [ctx.Process(target=_writer, args=(path, n, results)) for n in range(WRITERS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [w.exitcode for w in workers] == [0] * WRITERS
    run_of = dict(results.get(timeout=5) for _ in range(WRITERS))

    assert len(set(run_of.values())) == WRITERS
    store = SqliteMetadataStore(path)
    assert sorted(r.run_id for r in store.list_runs(FLOW)) == sorted(run_of.values())
    for number, run_id in run_of.items():
        run = store.get_run(FLOW, run_id)
        assert (run.status, run.user, run.tags) == ("succeeded", f"writer{number}", (f"w{number}",))
        tasks = store.list_tasks(FLOW, run_id, "train")
        assert sorted(int(t.task_id) for t in tasks) == list(range(TASKS_PER_WRITER))
        assert all(t.status == "succeeded" for t in tasks)
        last = str(TASKS_PER_WRITER - 1)
        assert store.list_artifacts(FLOW, run_id, "train", last)["x"].key == f"{number}-{last}"
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM artifacts").fetchone()[0] == 1600
        assert conn.execute("SELECT COUNT(*) FROM task_parents").fetchone()[0] == 1600
        assert conn.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == len(MIGRATIONS)


def _version_rows(path) -> list[int]:
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT version FROM schema_version")]


def test_migrations_run_once_with_two_openers(tmp_path):
    path = tmp_path / "stepwell.db"
    first, second = SqliteMetadataStore(path), SqliteMetadataStore(path)
    run_id = new_run(first)
    assert second.get_run(FLOW, run_id).run_id == run_id  # second opens an existing schema
    third = SqliteMetadataStore(path)
    assert third.list_flows() == [FLOW]
    assert _version_rows(path) == [m.version for m in MIGRATIONS]
    assert _version_rows(path)[-1] == LATEST_VERSION


def _open_at_once(path: str, barrier, results: multiprocessing.Queue) -> None:
    barrier.wait()
    try:
        results.put(SqliteMetadataStore(path).list_flows())
    except MetadataError as exc:
        results.put(str(exc))


def test_processes_opening_a_new_database_at_once_all_get_in(tmp_path):
    # Switching a new file to WAL mode answers "database is locked" at once (no busy
    # handler) to the processes that lose the race; they must retry, not fail.
    ctx = multiprocessing.get_context("fork")
    failures = []
    for attempt in range(30):
        path = str(tmp_path / f"new-{attempt}.db")
        barrier, results = ctx.Barrier(4), ctx.Queue()
        args = (path, barrier, results)
        openers = [ctx.Process(target=_open_at_once, args=args) for _ in range(4)]
        for opener in openers:
            opener.start()
        outcomes = [results.get(timeout=60) for _ in openers]
        for opener in openers:
            opener.join()
        failures += [o for o in outcomes if o != []]
    assert failures == []


def test_a_database_from_a_newer_stepwell_is_refused(tmp_path):
    path = tmp_path / "stepwell.db"
    new_run(SqliteMetadataStore(path))
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO schema_version VALUES (?, 'from the future', 0)", (LATEST_VERSION + 1,)
        )
    with pytest.raises(MetadataError, match="newer stepwell"):
        SqliteMetadataStore(path).list_flows()


def test_connection_settings(tmp_path):
    store = SqliteMetadataStore(tmp_path / "stepwell.db")
    store.list_flows()
    conn = store._db._conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 10_000
    assert conn.isolation_level is None


def test_a_short_busy_timeout_is_refused(tmp_path):
    with pytest.raises(MetadataError, match="at least 10 s"):
        SqliteMetadataStore(tmp_path / "stepwell.db", busy_timeout=1)


def test_the_connection_opens_lazily(tmp_path):
    path = tmp_path / "sub" / "stepwell.db"
    store = SqliteMetadataStore(path)
    assert not path.exists()
    store.list_flows()
    assert path.exists()


def _child_uses_store(store: SqliteMetadataStore, run_id: str, parent_conn_id: int, q) -> None:
    store.record_task(outcome(run_id, "start", "child"))
    q.put(id(store._db._conn) != parent_conn_id and store._db._inherited != [])


def test_a_forked_child_opens_its_own_connection(tmp_path):
    store = SqliteMetadataStore(tmp_path / "stepwell.db")
    run_id = new_run(store)
    parent_conn = store._db._conn
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    child = ctx.Process(target=_child_uses_store, args=(store, run_id, id(parent_conn), q))
    child.start()
    child.join(timeout=30)
    assert child.exitcode == 0
    assert q.get(timeout=5) is True
    assert store._db._conn is parent_conn  # the parent keeps its own, still usable
    assert store.get_task(FLOW, run_id, "start", "child").status == "succeeded"


def test_database_errors_become_metadata_errors(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a directory should be")
    with pytest.raises(MetadataError, match="not-a-dir"):
        SqliteMetadataStore(blocker / "stepwell.db").list_flows()


def test_reads_use_indexes_not_table_scans(tmp_path):
    """Every query a read makes is planned as an index search, never a scan."""
    store = SqliteMetadataStore(tmp_path / "stepwell.db")
    run_id = new_run(store, tags=["t"])
    store.register_task(TaskLaunch(FLOW, run_id, "start", "1"))
    store.record_task(
        outcome(run_id, "start", "1", artifacts=[ArtifactRecord("x", "k", "p", "i", 1)])
    )
    store.record_task(outcome(run_id, "end", "2", parent_task_ids=["1"]))
    statements: list[str] = []
    store._db._conn.set_trace_callback(statements.append)
    store.get_run(FLOW, run_id)
    store.latest_run(FLOW)
    store.latest_run(FLOW, successful_only=True, user="ada")
    store.latest_run(FLOW, user="ada")
    store.list_runs(FLOW, limit=10, offset=5, tags=["t"], user="ada")
    store.list_runs(FLOW, status="failed", limit=2)
    store.list_steps(FLOW, run_id)
    store.list_tasks(FLOW, run_id)
    store.list_tasks(FLOW, run_id, "start")
    store.get_task(FLOW, run_id, "start", "1")
    store.list_artifacts(FLOW, run_id, "start", "1")
    store.get_task_metadata(FLOW, run_id, "start", "1")
    store.parent_tasks(FLOW, run_id, "end", "2")
    store.child_tasks(FLOW, run_id, "start", "1")
    store.heartbeat(FLOW, run_id)
    store._db._conn.set_trace_callback(None)

    queries = [s for s in statements if s.lstrip().upper().startswith(("SELECT", "UPDATE"))]
    assert len(queries) >= 15
    tables = ("runs", "run_tags", "tasks", "task_parents", "artifacts", "task_metadata")
    scan = re.compile(rf"\bSCAN ({'|'.join(tables)})\b(?! USING (COVERING )?INDEX \w+ \()")
    for query in queries:
        plan = store._db._conn.execute(f"EXPLAIN QUERY PLAN {query}").fetchall()
        details = [row[-1] for row in plan]
        assert not [d for d in details if scan.search(d)], (query, details)


def _cost(store: SqliteMetadataStore, call) -> int:
    """SQLite virtual-machine instructions that a call executes."""
    ticks = [0]

    def tick() -> int:
        ticks[0] += 1
        return 0

    conn = store._db._conn
    conn.set_progress_handler(tick, 1)
    try:
        call()
    finally:
        conn.set_progress_handler(None, 10)
    return ticks[0]


def _lookups(store: SqliteMetadataStore, run_id: str):
    """Lookups that must cost the same whatever the number of runs and tasks."""
    return {
        "latest_run": lambda: store.latest_run(FLOW),
        "latest_successful": lambda: store.latest_run(FLOW, successful_only=True),
        "latest_of_user": lambda: store.latest_run(FLOW, successful_only=True, user="ada"),
        "get_run": lambda: store.get_run(FLOW, run_id),
        "list_runs_page": lambda: store.list_runs(FLOW, limit=5),
        "list_failed_runs": lambda: store.list_runs(FLOW, status="failed", limit=2),
        "get_task": lambda: store.get_task(FLOW, run_id, "train", "t3"),
        "list_artifacts": lambda: store.list_artifacts(FLOW, run_id, "train", "t3"),
        "task_metadata": lambda: store.get_task_metadata(FLOW, run_id, "train", "t3"),
        "parent_tasks": lambda: store.parent_tasks(FLOW, run_id, "train", "t3"),
        "child_tasks": lambda: store.child_tasks(FLOW, run_id, "train", "t3"),
        "heartbeat": lambda: store.heartbeat(FLOW, run_id),
        "record_task": lambda: store.record_task(
            outcome(run_id, "join", f"j{os.urandom(4).hex()}")
        ),
    }


def _populate(store: SqliteMetadataStore, runs: int, tasks: int) -> str:
    for i in range(runs):
        run_id = new_run(store, user="ada" if i % 2 else "bob")
        store.finish_run(FLOW, run_id, "succeeded" if i % 3 else "failed")
    run_id = new_run(store)
    store.record_task(outcome(run_id, "start", "s"))
    store.record_tasks(
        [
            outcome(
                run_id,
                "train",
                f"t{i}",
                parent_task_ids=["s"],
                artifacts=[ArtifactRecord("x", f"k{i}", "p", "i", 1)],
                metadata={"m": "1"},
            )
            for i in range(tasks)
        ]
    )
    store.record_tasks([outcome(run_id, "join", f"c{i}", parent_task_ids=["t3"]) for i in range(2)])
    return run_id


def test_lookups_cost_the_same_with_many_runs_and_tasks(tmp_path):
    small = SqliteMetadataStore(tmp_path / "small.db")
    large = SqliteMetadataStore(tmp_path / "large.db")
    small_lookups = _lookups(small, _populate(small, runs=300, tasks=300))
    large_lookups = _lookups(large, _populate(large, runs=1500, tasks=1500))
    for name, call in small_lookups.items():
        base, big = _cost(small, call), _cost(large, large_lookups[name])
        assert big <= 1.1 * base + 10, (name, base, big)  # a scan would cost 5 times more
