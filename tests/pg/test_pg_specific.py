"""What only the PostgreSQL store promises: schema upgrades on request, connection errors
that say what to check, passwords from the URL / PGPASSWORD / .pgpass, concurrency
across processes, fork safety, and the run id sequence.
"""

from __future__ import annotations

import multiprocessing
import os

import pytest

from stepwell.exceptions import ConfigError, MetadataError
from stepwell.metadata import (
    PostgresMetadataStore,
    open_metadata,
)
from stepwell.metadata import _database as database_module
from stepwell.metadata._schema import LATEST_VERSION, MIGRATIONS
from stepwell.testing.metadata_conformance import FLOW, new_run, outcome, write_a_run

WRITERS = 8
TASKS_PER_WRITER = 200

# -- the schema: created and upgraded only on request --------------------------------


def test_a_database_without_the_schema_says_how_to_create_it(pg_server):
    url = pg_server.new_database()
    store = PostgresMetadataStore(url)
    with pytest.raises(MetadataError) as caught:
        store.list_flows()
    message = str(caught.value)
    assert "has no stepwell schema" in message
    assert "stepwell db upgrade --metadata " + url in message
    assert store.schema_version() == 0
    assert store.upgrade() == (0, LATEST_VERSION)
    assert store.upgrade() == (LATEST_VERSION, LATEST_VERSION)  # idempotent
    assert store.list_flows() == []
    store.close()


def test_an_older_schema_is_refused_until_upgraded_and_keeps_its_runs(pg_server, monkeypatch):
    url = pg_server.new_database()
    old = MIGRATIONS[:-1]
    monkeypatch.setattr(database_module, "MIGRATIONS", old)
    monkeypatch.setattr(database_module, "LATEST_VERSION", old[-1].version)
    PostgresMetadataStore(url).upgrade()
    pg_server.sql(
        "INSERT INTO flows (name, created_at) VALUES ('OldFlow', 1)", database=url.rsplit("/")[-1]
    )
    monkeypatch.undo()
    store = PostgresMetadataStore(url)
    with pytest.raises(MetadataError, match=f"has schema version {old[-1].version}"):
        store.list_flows()
    assert store.upgrade() == (old[-1].version, LATEST_VERSION)
    assert store.list_flows() == ["OldFlow"]
    store.close()


def test_a_database_from_a_newer_stepwell_is_refused(pg_url, pg_server):
    pg_server.sql(
        "INSERT INTO schema_version VALUES (%s, 'from the future', 0)",
        LATEST_VERSION + 1,
        database=pg_url.rsplit("/")[-1],
    )
    store = PostgresMetadataStore(pg_url)
    for attempt in (store.list_flows, store.upgrade):
        with pytest.raises(MetadataError, match="newer stepwell"):
            attempt()


def _in_processes(target, arguments: list[tuple]) -> list:
    """Run ``target(*args, results)`` in one forked process per ``args``; what they put."""
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args, results)) for args in arguments]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
        assert proc.exitcode == 0
    return [results.get(timeout=5) for _ in procs]


def _upgrade(url: str, results: multiprocessing.Queue) -> None:
    results.put(PostgresMetadataStore(url).upgrade())


def test_concurrent_upgrades_apply_each_migration_once(pg_server):
    url = pg_server.new_database()
    outcomes = sorted(_in_processes(_upgrade, [(url,)] * 4))
    assert outcomes.count((0, LATEST_VERSION)) == 1  # one created it, the others found it done
    assert outcomes.count((LATEST_VERSION, LATEST_VERSION)) == 3
    rows = pg_server.sql("SELECT version FROM schema_version ORDER BY version",
                         database=url.rsplit("/")[-1])  # fmt: skip
    assert [r[0] for r in rows] == [m.version for m in MIGRATIONS]


# -- connection errors: one message naming what to check ---------------------------------


def _error(url: str, **kwargs) -> str:
    store = open_metadata(url, home="/nonexistent", source="env:STEPWELL_METADATA", **kwargs)
    with pytest.raises(MetadataError) as caught:
        store.check()
    return str(caught.value)


def test_a_refused_connection_names_the_address(pg_server):
    message = _error(f"postgresql://postgres@127.0.0.1:1/{'team'}")
    assert "refused the connection" in message
    assert "127.0.0.1:1" in message and "env:STEPWELL_METADATA" in message


def test_a_missing_database_says_how_to_create_it(pg_server):
    message = _error(pg_server.url("no_such_db"))
    assert "no database 'no_such_db'" in message and "createdb no_such_db" in message


def test_wrong_credentials_name_the_user_and_where_passwords_come_from(pg_server):
    url = pg_server.new_database(owner="carol", password="right")
    wrong = url.replace(":right@", ":wrong@")
    message = _error(wrong)
    assert "credentials of user 'carol'" in message and "PGPASSWORD" in message
    assert "wrong" not in message  # the password is never shown
    assert ":***@" in message


def test_an_invalid_url_is_refused_before_connecting():
    with pytest.raises(MetadataError, match="not a valid PostgreSQL URL"):
        open_metadata("postgresql://alice@127.0.0.1:notaport/db", home="/nonexistent")


def test_unsupported_metadata_values_say_what_is_supported(monkeypatch):
    from stepwell.config import load_settings

    with pytest.raises(ConfigError, match="needs no metadata service"):
        load_settings(env={"METAFLOW_DEFAULT_METADATA": "service"})
    with pytest.raises(ConfigError, match="'local' or a postgresql:// URL"):
        load_settings(metadata="mysql://x@y/z")
    settings = load_settings(env={"STEPWELL_METADATA": "postgresql://a@h/db"})
    assert settings.metadata == "postgresql://a@h/db"
    assert settings.source("metadata") == "env:STEPWELL_METADATA"


# -- passwords: URL, PGPASSWORD, ~/.pgpass --------------------------------------------------


def test_passwords_come_from_the_url_pgpassword_or_pgpass(pg_server, tmp_path, monkeypatch):
    url = pg_server.new_database(owner="dave", password="p@ss:word")
    store = PostgresMetadataStore(url)
    store.upgrade()
    new_run(store)
    store.close()
    bare = pg_server.url(url.rsplit("/")[-1], "dave")
    assert "p%40ss" not in bare
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-such-pgpass"))
    with pytest.raises(MetadataError, match="credentials of user 'dave'"):
        PostgresMetadataStore(bare).check()
    monkeypatch.setenv("PGPASSWORD", "p@ss:word")
    assert PostgresMetadataStore(bare).list_flows() == [FLOW]
    monkeypatch.delenv("PGPASSWORD")
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{pg_server.port}:*:dave:p@ss\\:word\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    assert PostgresMetadataStore(bare).list_flows() == [FLOW]


def test_the_password_never_shows_in_repr_or_description(pg_server):
    url = pg_server.new_database(owner="erin", password="hunter22")
    store = PostgresMetadataStore(url)
    assert "hunter22" not in repr(store) and "hunter22" not in store.describe()


# -- concurrency, fork safety, run ids ------------------------------------------------------


def _writer(url: str, number: int, results: multiprocessing.Queue) -> None:
    results.put((number, write_a_run(PostgresMetadataStore(url), number, TASKS_PER_WRITER)))


def test_concurrent_writer_processes_lose_nothing(pg_url):
    run_ids = dict(_in_processes(_writer, [(pg_url, n) for n in range(WRITERS)]))
    assert len(set(run_ids.values())) == WRITERS  # unique across all writers
    store = PostgresMetadataStore(pg_url)
    for number, run_id in run_ids.items():
        run = store.get_run(FLOW, run_id)
        assert run.user == f"writer{number}" and run.status == "succeeded"
        tasks = store.list_tasks(FLOW, run_id, "train")
        assert len(tasks) == TASKS_PER_WRITER
        assert store.list_artifacts(FLOW, run_id, "train", "7")["x"].key == f"{number}-7"
    assert len(store.list_runs(FLOW)) == WRITERS
    store.close()


def _child_uses_store(store: PostgresMetadataStore, run_id: str, q) -> None:
    store.record_task(outcome(run_id, "start", "child"))
    q.put(store._db._inherited != [])


def test_a_forked_child_opens_its_own_pool_and_the_parent_keeps_working(pg_url):
    store = PostgresMetadataStore(pg_url)
    run_id = new_run(store)
    parent_pool = store._db._pool
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    child = ctx.Process(target=_child_uses_store, args=(store, run_id, q))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    assert q.get(timeout=5) is True
    assert store._db._pool is parent_pool
    assert store.get_task(FLOW, run_id, "start", "child").status == "succeeded"
    store.close()


def test_an_explicit_run_id_moves_the_sequence_past_it(pg_url):
    store = PostgresMetadataStore(pg_url)
    first = int(new_run(store))
    chosen = first + 500
    assert new_run(store, run_id=str(chosen)) == str(chosen)
    assert int(new_run(store)) == chosen + 1
    new_run(store, run_id=str(first + 100))  # below the sequence: it does not move back
    assert int(new_run(store)) == chosen + 2
    store.close()


def test_a_lost_server_connection_is_replaced(pg_url, pg_server, monkeypatch):
    from stepwell.metadata import _postgres

    monkeypatch.setattr(_postgres, "IDLE_CHECK_SECONDS", 0.0)  # as if it sat idle
    store = PostgresMetadataStore(pg_url)
    run_id = new_run(store)
    pg_server.sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE application_name = 'stepwell' AND pid <> pg_backend_pid()"
    )
    assert store.get_run(FLOW, run_id).run_id == run_id  # the pool checks and reconnects
    store.close()


def test_open_metadata_picks_the_backend_by_url(pg_url, tmp_path):
    store = open_metadata(pg_url, home=tmp_path)
    assert isinstance(store, PostgresMetadataStore)
    assert store.list_flows() == []
    store.close()
    assert type(open_metadata("local", home=tmp_path)).__name__ == "SqliteMetadataStore"
    assert os.listdir(tmp_path) == []  # opened lazily: nothing created yet


def _keyed(url: str, number: int, results: multiprocessing.Queue) -> None:
    store = PostgresMetadataStore(url)
    results.put(store.new_run(
        FLOW, user=f"task{number}", tags=[], system_tags=[], parameters={}, pid=None,
        host=None, run_key="argo-race",
    ))  # fmt: skip


def test_tasks_racing_to_create_the_run_of_one_key_get_one_run(pg_url):
    run_ids = _in_processes(_keyed, [(pg_url, n) for n in range(8)])
    assert len(set(run_ids)) == 1
    store = PostgresMetadataStore(pg_url)
    assert [r.run_id for r in store.list_runs(FLOW)] == run_ids[:1]
    store.close()
