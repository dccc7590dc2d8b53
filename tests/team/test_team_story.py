"""The team story end to end, on real components: PostgreSQL for the runs, S3 for the data.

Set up as docs/team.md says: an owner role creates the schema, alice and bob log in
with their own roles (passwords from PGPASSWORD) that belong to ``stepwell_users``.
They run at the same time; each sees their own runs by default (``user:NAME``) and
everyone's with ``namespace(None)``; each @project branch is a namespace of its own; bob resumes his
failed run; the server shows both users' runs to a valid token and answers 401
without one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("psycopg", reason="the team tests need 'stepwell[postgres]'")

FLOW = Path(__file__).parents[1] / "flows" / "team" / "team_flow.py"

# The grants of docs/team.md, "Accounts in PostgreSQL" (run by the owner role).
GRANTS = """
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO stepwell_users;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO stepwell_users;
REVOKE ALL ON api_tokens FROM stepwell_users;
"""


@pytest.fixture
def team(pg_server, s3_server, s3_bucket, tmp_path):
    """The shared database (schema by the owner role) and bucket; each user's environment."""
    owner_url = pg_server.new_database("team", owner="stepwell_owner", password="owner-pw")
    created = subprocess.run(
        [sys.executable, "-m", "stepwell.cli", "db", "upgrade", "--metadata", owner_url],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    import psycopg

    pg_server.sql("CREATE ROLE stepwell_users")  # by the server's administrator
    with psycopg.connect(owner_url, autocommit=True) as conn:
        for statement in filter(str.strip, GRANTS.split(";")):
            conn.execute(statement)
    envs = {}
    for user in ("alice", "bob"):
        pg_server.create_role(user, f"{user}-pw")
        pg_server.sql(f"GRANT stepwell_users TO {user}")
        envs[user] = {
            **os.environ,
            **s3_server.environment(s3_bucket),
            "STEPWELL_HOME": str(tmp_path / f"home-{user}"),
            "STEPWELL_USER": user,
            "STEPWELL_METADATA": pg_server.url("team", user),  # no password in the URL
            "PGPASSWORD": f"{user}-pw",
        }
    return {"owner_url": owner_url, "envs": envs}


def _run(env, *args, extra=None):
    return subprocess.Popen(
        [sys.executable, str(FLOW), *args],
        env={**env, **(extra or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _wait(proc, expect=0):
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == expect, err[-3000:]
    return out


def _client(env, script):
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_two_users_share_one_database_and_one_bucket(team, tmp_path):
    alice, bob = team["envs"]["alice"], team["envs"]["bob"]
    # At the same time: alice on her user branch and on branch 'exp'; bob's run fails.
    procs = [
        _run(alice, "run", "--n", "4"),
        _run(alice, "--branch", "exp", "run", "--n", "2"),
        _run(bob, "run", "--run-id-file", str(tmp_path / "bob.id"), extra={"TEAM_FAIL": "1"}),
    ]
    _wait(procs[0])
    _wait(procs[1])
    _wait(procs[2], expect=1)
    failed = (tmp_path / "bob.id").read_text()
    resumed = _run(bob, "resume", "--origin-run-id", failed, "--run-id-file",
                   str(tmp_path / "bob2.id"))  # fmt: skip
    _wait(resumed)
    bob_run = (tmp_path / "bob2.id").read_text()

    mine = (
        "from stepwell import Flow, namespace\n"
        "print(sorted((r.user, r.data.total) for r in Flow('TeamFlow').runs()))\n"
        "namespace(None)\n"
        "print(sorted((r.user, r.successful) for r in Flow('TeamFlow').runs()))\n"
        "for branch in ('test.exp', 'user.alice', 'user.bob'):\n"
        "    namespace(f'project_branch:{branch}')\n"
        "    print(sorted((r.user, r.successful, r.parameters['n']) for r in Flow('TeamFlow')))\n"
    )
    alice_sees = _client(alice, mine)
    assert alice_sees[0] == "[('alice', 10), ('alice', 60)]"  # user:alice, none of bob's
    assert alice_sees[1] == str(
        sorted([("alice", True), ("alice", True), ("bob", False), ("bob", True)])
    )
    # @project branches keep their runs apart
    assert alice_sees[2:] == [
        "[('alice', True, 2)]",  # test.exp
        "[('alice', True, 4)]",  # user.alice
        "[('bob', False, 3), ('bob', True, 3)]",  # user.bob: the failed run and its resume
    ]
    bob_sees = _client(
        bob,
        "from stepwell import Flow\n"
        f"r = Flow('TeamFlow')['{bob_run}']\n"
        "print(r.user, r.successful, r.data.total, r.origin_pathspec)\n"
        "print(r.datastore_root.startswith('s3://'))\n"
        "print([r.user for r in Flow('TeamFlow').runs()])\n",
    )
    assert bob_sees[0] == f"bob True 30 TeamFlow/{failed}"
    assert bob_sees[1] == "True"  # the data went to the shared bucket
    assert bob_sees[2] == ["bob", "bob"].__repr__()  # his failed run and its resume
    _server_shows_both_users(team["owner_url"], bob_run, {**bob, "PGPASSWORD": "owner-pw"})


def _server_shows_both_users(owner_url: str, bob_run: str, env: dict[str, str]) -> None:
    """`stepwell server` over the same database: a token sees everyone's runs; none gets 401."""
    env = {**env, "STEPWELL_METADATA": owner_url}  # the owner reads the token table
    created = subprocess.run(
        [sys.executable, "-m", "stepwell.cli", "server", "token", "create", "--user", "carol"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    server = subprocess.Popen(
        [sys.executable, "-m", "stepwell.cli", "server", "--port", "0"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        url = _server_url(server)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url + "api/flows", timeout=30)
        assert refused.value.code == 401
        request = urllib.request.Request(
            url + "api/flows/TeamFlow/runs?limit=100",
            headers={"Authorization": f"Bearer {secret}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            page = json.load(response)
        users = sorted({run["user"] for run in page["runs"]})
        assert users == ["alice", "bob"]
        assert bob_run in {str(run["id"]) for run in page["runs"]}
        session = urllib.request.Request(
            url + "api/session", headers={"Authorization": f"Bearer {secret}"}
        )
        with urllib.request.urlopen(session, timeout=30) as response:
            assert json.load(response)["user"] == "carol"
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert secret not in (server.stderr.read() if server.stderr else "")


def _server_url(server: subprocess.Popen) -> str:
    assert server.stderr is not None
    for _ in range(50):
        line = server.stderr.readline()
        if "http://" in line:
            return line[line.index("http://") :].split()[0].split("?")[0]
        if not line and server.poll() is not None:
            break
    raise AssertionError(f"the server did not print its URL (exit {server.poll()})")
