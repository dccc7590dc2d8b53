"""Settings: environment > stepwell.toml > defaults, each value knowing its source."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stepwell.config import load_settings, resolve_username
from stepwell.exceptions import ConfigError


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings(env={}, cwd=tmp_path)
    assert settings.max_num_splits == 100_000
    assert settings.max_workers == (os.cpu_count() or 1)
    assert settings.executor == "fork"
    assert settings.source("home") == "default"


def test_environment_wins_over_toml_and_records_its_source(tmp_path: Path) -> None:
    (tmp_path / "stepwell.toml").write_text('home = "store"\nmax_workers = 3\n')
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    settings = load_settings(env={"STEPWELL_MAX_WORKERS": "5"}, cwd=nested)
    assert (
        settings.max_workers == 5 and settings.source("max_workers") == "env:STEPWELL_MAX_WORKERS"
    )
    assert settings.home == (tmp_path / "store").resolve()
    assert settings.source("home") == str(tmp_path / "stepwell.toml")


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"STEPWELL_MAX_WORKERS": "many"}, "whole number"),
        ({"STEPWELL_MAX_WORKERS": "0"}, "at least 1"),
        ({"STEPWELL_EXECUTOR": "threads"}, "fork, subprocess"),
    ],
)
def test_bad_values_name_the_setting_the_value_and_the_source(
    tmp_path: Path, env: dict[str, str], fragment: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(env=env, cwd=tmp_path)
    message = str(info.value)
    assert fragment in message and "env:STEPWELL_" in message


def test_unknown_toml_keys_are_refused(tmp_path: Path) -> None:
    (tmp_path / "stepwell.toml").write_text("max_wrokers = 2\n")
    with pytest.raises(ConfigError) as info:
        load_settings(env={}, cwd=tmp_path)
    assert "max_wrokers" in str(info.value) and "max_workers" in str(info.value)


def test_username_order(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_username("explicit") == "explicit"
    monkeypatch.setenv("STEPWELL_USER", "ana")
    assert resolve_username() == "ana"
    for var in ("STEPWELL_USER", "LOGNAME", "USER", "USERNAME"):
        monkeypatch.delenv(var, raising=False)
    assert resolve_username()  # the process owner, root included: never empty, never raises
