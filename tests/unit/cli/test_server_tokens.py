"""`stepwell server token create|list|revoke` and the server's refusal to start unprotected."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from stepwell.cli._main import main
from stepwell.metadata import SqliteMetadataStore


@pytest.fixture(autouse=True)
def ui_logger() -> Iterator[None]:
    """`stepwell server` sets up its logger for the process: undo it after each test."""
    logger = logging.getLogger("stepwell.ui")
    handlers, level = list(logger.handlers), logger.level
    yield
    logger.handlers[:], logger.level = handlers, level


def stepwell(*args: str) -> object:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def create(user: str, *more: str) -> tuple[str, str]:
    """(token id, secret) of a new token, from the command's output."""
    result = stepwell("server", "token", "create", "--user", user, *more)
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    token_id = re.search(r"Created token (\w+) for " + user, result.stderr).group(1)
    return token_id, secret


def test_create_prints_the_secret_once_and_stores_only_its_hash(stepwell_home: Path) -> None:
    result = stepwell("server", "token", "create", "--user", "ada", "--note", "laptop")
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert re.fullmatch(r"swt_[A-Za-z0-9_\-]{43}", secret)  # stdout is the secret alone
    assert "not shown again" in result.stderr and "Authorization: Bearer" in result.stderr
    database = b"".join(f.read_bytes() for f in stepwell_home.glob("stepwell.db*"))  # WAL too
    assert hashlib.sha256(secret.encode()).hexdigest().encode() in database
    assert secret.encode() not in database and secret[4:].encode() not in database
    store = SqliteMetadataStore(stepwell_home / "stepwell.db")
    assert store.check_token(secret).user == "ada"


def test_list_shows_every_token_but_never_a_secret(stepwell_home: Path) -> None:
    ada_id, ada_secret = create("ada", "--note", "laptop")
    bob_id, bob_secret = create("bob")
    stepwell("server", "token", "revoke", bob_id)
    result = stepwell("server", "token", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["id", "user", "note", "created", "last", "used", "revoked"]
    assert lines[1].split()[:3] == [ada_id, "ada", "laptop"] and "never" in lines[1]
    assert lines[2].split()[:2] == [bob_id, "bob"] and re.search(r"\d{4}-\d\d-\d\d", lines[2][-17:])
    for secret in (ada_secret, bob_secret):
        assert secret not in result.output and secret[4:14] not in result.output
    active = stepwell("server", "token", "list", "--active").output
    assert ada_id in active and bob_id not in active
    only_bob = stepwell("server", "token", "list", "--user", "bob").output
    assert bob_id in only_bob and ada_id not in only_bob


def test_list_without_tokens_says_how_to_create_one(stepwell_home: Path) -> None:
    result = stepwell("server", "token", "list")
    assert result.exit_code == 0 and "stepwell server token create --user NAME" in result.output


def test_revoke_refuses_the_token_from_then_on(stepwell_home: Path) -> None:
    token_id, secret = create("ada")
    result = stepwell("server", "token", "revoke", token_id)
    assert result.exit_code == 0, result.output
    assert f"Token {token_id} of ada is revoked" in result.output
    assert SqliteMetadataStore(stepwell_home / "stepwell.db").check_token(secret) is None


def test_revoking_an_unknown_id_names_it_and_lists_the_ids(stepwell_home: Path) -> None:
    token_id, _ = create("ada")
    result = stepwell("server", "token", "revoke", "nope")
    assert result.exit_code == 1
    assert "Not found: No API token with id 'nope'." in result.stderr
    assert f"{token_id} (ada)" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("user", ["", "ada lovelace", "tab\there"])
def test_a_bad_user_name_is_a_clear_error(stepwell_home: Path, user: str) -> None:
    result = stepwell("server", "token", "create", "--user", user)
    assert result.exit_code == 1 and "Invalid user name" in result.stderr
    assert "Traceback" not in result.output


def test_serving_beyond_loopback_without_a_token_refuses_to_start(stepwell_home: Path) -> None:
    result = stepwell("server", "--host", "0.0.0.0", "--port", "0")
    assert result.exit_code == 1
    assert "Refusing to serve 0.0.0.0: no API token has been created" in result.stderr
    assert "stepwell server token create --user NAME" in result.stderr


def test_a_missing_tls_certificate_is_a_clear_error(stepwell_home: Path, tmp_path: Path) -> None:
    result = stepwell("server", "--port", "0", "--tls-cert", str(tmp_path / "none.pem"))
    assert result.exit_code == 1
    assert "Cannot load the TLS certificate" in result.stderr and "none.pem" in result.stderr
