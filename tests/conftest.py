"""Shared fixtures: every test gets its own STEPWELL_HOME under a temporary directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

FLOWS = Path(__file__).parent / "flows"


@pytest.fixture(autouse=True)
def stepwell_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private store; nothing a test does touches ~/.stepwell."""
    from stepwell.client import reset_client

    home = tmp_path / "stepwell-home"
    monkeypatch.setenv("STEPWELL_HOME", str(home))
    monkeypatch.setenv("STEPWELL_USER", "tester")
    reset_client()  # no namespace or open store carried over from another test
    yield home
    reset_client()


# -- real servers on 127.0.0.1, started once per session when a test asks for them ----------


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """A PostgreSQL started for this session in a temporary directory (tests/pg and team tests)."""
    pytest.importorskip("psycopg", reason="the PostgreSQL tests need 'stepwell[postgres]'")
    from stepwell.testing.pgserver import PostgresServer, find_postgres_bin

    if find_postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    with PostgresServer.start() as server:
        yield server


@pytest.fixture
def pg_url(pg_server: Any) -> str:
    """A new, empty database with the stepwell schema; its URL (owner 'postgres', trusted)."""
    from stepwell.metadata import PostgresMetadataStore

    url = pg_server.new_database()
    store = PostgresMetadataStore(url)
    store.upgrade()
    store.close()
    return str(url)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[Any]:
    """moto's S3 server on 127.0.0.1 for this session."""
    pytest.importorskip("obstore", reason="the S3 tests need obstore: pip install 'stepwell[s3]'")
    from stepwell.testing.s3server import S3Server

    with S3Server.start() as server:
        yield server


@pytest.fixture
def s3_bucket(s3_server: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket; the AWS credentials for the server are in the environment."""
    for name, value in s3_server.credentials.items():
        monkeypatch.setenv(name, value)
    return str(s3_server.new_bucket())


@pytest.fixture
def s3_env(s3_server: Any, s3_bucket: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment that puts stepwell's datastore in a fresh bucket of the server."""
    env: dict[str, str] = s3_server.environment(s3_bucket)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env
