"""Flows recorded in PostgreSQL: many users at once, the CLI, errors at start, schema commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from stepwell.metadata import open_metadata

FLOWS = Path(__file__).parents[1] / "flows"
WIDTH_FLOW = FLOWS / "failing" / "foreach_width_flow.py"
USERS = 8
WIDTH = 200


def _env(tmp_path: Path, user: str, metadata: str) -> dict[str, str]:
    return {**os.environ, "STEPWELL_HOME": str(tmp_path / f"home-{user}"),
            "STEPWELL_USER": user, "STEPWELL_METADATA": metadata}  # fmt: skip


def test_concurrent_runs_of_different_users_lose_no_record(pg_url, tmp_path):
    procs = {}
    for n in range(USERS):
        user = f"user{n}"
        procs[user] = subprocess.Popen(
            [sys.executable, str(WIDTH_FLOW), "--quiet", "run", "--width", str(WIDTH),
             "--run-id-file", str(tmp_path / f"{user}.id")],
            env=_env(tmp_path, user, pg_url), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
    for user, proc in procs.items():
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"{user}: {out.decode()[-2000:]}"
    run_ids = {user: (tmp_path / f"{user}.id").read_text() for user in procs}
    assert len(set(run_ids.values())) == USERS  # unique across every user
    store = open_metadata(pg_url, home=tmp_path)
    for user, run_id in run_ids.items():
        run = store.get_run("ForeachWidthFlow", run_id)
        assert run.user == user and run.status == "succeeded"
        assert f"user:{user}" in run.system_tags
        work = store.list_tasks("ForeachWidthFlow", run_id, "work")
        assert len(work) == WIDTH and all(t.status == "succeeded" for t in work)
        assert len(store.list_tasks("ForeachWidthFlow", run_id)) == WIDTH + 3
    store.close()


def test_the_client_reads_runs_from_postgres_with_the_default_namespace(pg_url, tmp_path):
    for user in ("alice", "bob"):
        done = subprocess.run(
            [sys.executable, str(WIDTH_FLOW), "--quiet", "run", "--width", "4"],
            env=_env(tmp_path, user, pg_url), capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    script = (
        "from stepwell import Flow, namespace\n"
        "print([r.data.doubles for r in Flow('ForeachWidthFlow').runs()])\n"
        "namespace(None)\n"
        "print(sorted(r.user for r in Flow('ForeachWidthFlow').runs()))\n"
    )
    shown = subprocess.run([sys.executable, "-c", script], env=_env(tmp_path, "alice", pg_url),
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines() == ["[[0, 2, 4, 6]]", "['alice', 'bob']"]


def test_the_metadata_option_records_the_run_in_postgres_and_dump_reads_it(pg_url, tmp_path):
    env = _env(tmp_path, "alice", "local")
    done = subprocess.run(
        [sys.executable, str(WIDTH_FLOW), "--metadata", pg_url, "run", "--width", "3",
         "--run-id-file", str(tmp_path / "id")],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    run_id = (tmp_path / "id").read_text()
    assert not (tmp_path / "home-alice" / "stepwell.db").exists()  # nothing went to SQLite
    store = open_metadata(pg_url, home=tmp_path)
    assert store.get_run("ForeachWidthFlow", run_id).status == "succeeded"
    dump = subprocess.run(
        [sys.executable, str(WIDTH_FLOW), "--metadata", pg_url, "dump", f"{run_id}/join"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert dump.returncode == 0, dump.stderr
    assert "[0, 2, 4]" in dump.stdout
    runs = subprocess.run([sys.executable, "-m", "stepwell.cli", "--metadata", pg_url, "runs"],
                          env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert runs.returncode == 0, runs.stderr
    assert f"ForeachWidthFlow/{run_id}" in runs.stdout


def test_an_unreachable_database_stops_the_run_at_start_with_one_message(tmp_path):
    env = _env(tmp_path, "alice", "postgresql://alice:secret@127.0.0.1:1/team")
    done = subprocess.run([sys.executable, str(WIDTH_FLOW), "run"], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 1
    assert "refused the connection" in done.stderr and "127.0.0.1:1" in done.stderr
    assert "env:STEPWELL_METADATA" in done.stderr
    assert "Traceback" not in done.stderr and "secret" not in done.stderr
    assert not (tmp_path / "home-alice" / "stepwell.db").exists()


def test_an_unsupported_metadata_value_says_what_is_supported(tmp_path):
    env = _env(tmp_path, "alice", "local")
    done = subprocess.run([sys.executable, str(WIDTH_FLOW), "--metadata", "service", "run"],
                          env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 1
    assert "'local' or a postgresql:// URL" in done.stderr and "Traceback" not in done.stderr


def test_db_upgrade_and_status_commands(pg_server, tmp_path):
    url = pg_server.new_database()
    env = _env(tmp_path, "alice", url)

    def stepwell(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "stepwell.cli", *args], env=env,
                              capture_output=True, text=True, timeout=60)  # fmt: skip

    status = stepwell("db", "status")
    assert status.returncode == 0 and "schema version: 0 (no stepwell schema" in status.stdout
    refused = subprocess.run([sys.executable, str(WIDTH_FLOW), "run"], env=env,
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert refused.returncode == 1 and "stepwell db upgrade" in refused.stderr
    created = stepwell("db", "upgrade")
    assert created.returncode == 0 and "schema created" in created.stdout
    again = stepwell("db", "upgrade", "--metadata", url)
    assert "already up to date" in again.stdout
    assert "up to date" in stepwell("db", "status").stdout


def test_the_runner_records_in_postgres_and_reads_back_with_the_same_setting(
    pg_url, tmp_path, monkeypatch
):
    import pytest

    from stepwell import Runner

    home = tmp_path / "home-runner"
    with Runner(str(WIDTH_FLOW), show_output=False, env={"STEPWELL_HOME": str(home)},
                metadata=pg_url) as runner:  # fmt: skip
        result = runner.run(width=3)
    assert result.status == "successful", result.stderr
    monkeypatch.setenv("STEPWELL_HOME", str(home))
    with pytest.raises(RuntimeError, match="Set STEPWELL_METADATA to the same value"):
        result.run  # noqa: B018 - this process still reads the local store
    monkeypatch.setenv("STEPWELL_METADATA", pg_url)
    assert result.run.data.doubles == [0, 2, 4]
    assert not (home / "stepwell.db").exists()
