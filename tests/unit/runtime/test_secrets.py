"""@secrets providers and masking, without running a flow."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from stepwell.exceptions import ConfigError
from stepwell.runtime._secrets import masked_output, resolve_secrets


def test_env_provider_reads_the_prefixed_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPWELL_SECRET_DB_PASSWORD", "s3cret!")
    assert resolve_secrets(["env:DB_PASSWORD"]) == {"DB_PASSWORD": "s3cret!"}
    with pytest.raises(ConfigError) as info:
        resolve_secrets(["env:MISSING"])
    assert "STEPWELL_SECRET_MISSING" in str(info.value)


def test_file_provider_reads_dotenv_and_json(tmp_path: Path) -> None:
    dotenv = tmp_path / "a.env"
    dotenv.write_text("# comment\nexport A='1'\nB = two\n\n")
    as_json = tmp_path / "b.json"
    as_json.write_text('{"C": 3}')
    values = resolve_secrets([f"file:{dotenv}", {"type": "file", "path": str(as_json)}])
    assert values == {"A": "1", "B": "two", "C": "3"}
    broken = tmp_path / "c.env"
    broken.write_text("NOT A PAIR\n")
    with pytest.raises(ConfigError) as info:
        resolve_secrets([f"file:{broken}"])
    assert f"{broken}:1" in str(info.value)


def test_inline_and_later_sources_win() -> None:
    values = resolve_secrets(
        [{"type": "inline", "values": {"K": "a"}}, {"type": "inline", "values": {"K": "b"}}]
    )
    assert values == {"K": "b"}


@pytest.mark.parametrize("source", ["vault:x", {"type": "aws"}, 42])
def test_unknown_sources_say_what_is_understood(source: object) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_secrets([source])
    assert "env:NAME" in str(info.value)


def test_masking_replaces_values_in_what_python_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    with masked_output(["hunter2", "ab"]):
        print("password=hunter2 ab")
    assert out.getvalue() == "password=**** ab\n"  # values under 3 characters are left alone
    print("hunter2")
    assert out.getvalue().endswith("hunter2\n")  # only inside the block


def test_a_kubernetes_secret_is_the_pods_own_environment_so_nothing_is_resolved():
    # On a cluster the pod's envFrom gives the step the secret's keys; locally: nothing.
    assert resolve_secrets(["kubernetes:db-credentials", {"type": "kubernetes", "id": "x"}]) == {}
    with pytest.raises(ConfigError, match="'kubernetes:SECRET_NAME'"):
        resolve_secrets(["vault:db"])
