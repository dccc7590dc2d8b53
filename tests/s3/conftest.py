"""Tests against a real S3-compatible server (moto) started on 127.0.0.1 for this session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stepwell.testing.s3server import S3Server

pytest.importorskip("obstore", reason="the S3 tests need obstore: pip install 'stepwell[s3]'")


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    with S3Server.start() as server:
        yield server


@pytest.fixture
def s3_bucket(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket; the AWS credentials for the server are in the environment."""
    for name, value in s3_server.credentials.items():
        monkeypatch.setenv(name, value)
    return s3_server.new_bucket()


@pytest.fixture
def s3_env(s3_server: S3Server, s3_bucket: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment that puts stepwell's datastore in a fresh bucket of the server."""
    env = s3_server.environment(s3_bucket)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env
