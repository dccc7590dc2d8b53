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


def test_the_local_datastore_is_the_default_and_lives_in_home(tmp_path: Path) -> None:
    settings = load_settings(env={"STEPWELL_HOME": str(tmp_path)}, cwd=tmp_path)
    assert settings.datastore == "local"
    assert settings.datastore_url == str(tmp_path.resolve())


def test_s3_datastore_from_stepwell_variables(tmp_path: Path) -> None:
    env = {
        "STEPWELL_DATASTORE": "s3",
        "STEPWELL_DATASTORE_ROOT": "s3://team-bucket/sw",
        "STEPWELL_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
    }
    settings = load_settings(env=env, cwd=tmp_path)
    assert (settings.datastore, settings.datastore_url) == ("s3", "s3://team-bucket/sw")
    assert settings.s3_endpoint_url == "http://127.0.0.1:9000"


def test_metaflow_variables_are_aliases(tmp_path: Path) -> None:
    env = {
        "METAFLOW_DEFAULT_DATASTORE": "s3",
        "METAFLOW_DATASTORE_SYSROOT_S3": "s3://mf-bucket/metaflow",
        "METAFLOW_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
    }
    settings = load_settings(env=env, cwd=tmp_path)
    assert settings.datastore_url == "s3://mf-bucket/metaflow"
    assert settings.source("datastore") == "env:METAFLOW_DEFAULT_DATASTORE"
    assert settings.s3_endpoint_url == "http://127.0.0.1:9000"
    ours = load_settings(env={**env, "STEPWELL_DATASTORE_ROOT": "s3://ours/x"}, cwd=tmp_path)
    assert ours.datastore_url == "s3://ours/x"  # stepwell's own name wins


def test_metaflow_s3_root_does_not_move_a_local_datastore(tmp_path: Path) -> None:
    env = {"STEPWELL_HOME": str(tmp_path), "METAFLOW_DATASTORE_SYSROOT_S3": "s3://mf/x"}
    assert load_settings(env=env, cwd=tmp_path).datastore_url == str(tmp_path.resolve())


def test_datastore_settings_from_the_settings_file(tmp_path: Path) -> None:
    (tmp_path / "stepwell.toml").write_text(
        'datastore = "s3"\ndatastore_root = "s3://file-bucket/p"\n'
        's3_endpoint_url = "http://127.0.0.1:9000"\n'
    )
    settings = load_settings(env={}, cwd=tmp_path)
    assert settings.datastore_url == "s3://file-bucket/p"
    assert settings.source("datastore") == str(tmp_path / "stepwell.toml")


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"STEPWELL_DATASTORE": "s3"}, "needs a root"),
        ({"STEPWELL_DATASTORE": "s3", "STEPWELL_DATASTORE_ROOT": "/tmp/x"}, "must be an s3:// URL"),
        ({"STEPWELL_DATASTORE_ROOT": "s3://b-1/x"}, "STEPWELL_DATASTORE=s3"),
    ],
)
def test_bad_datastore_settings_say_what_to_set(tmp_path: Path, env: dict, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        _ = load_settings(env=env, cwd=tmp_path).datastore_url


def test_an_unknown_datastore_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="local, s3"):
        load_settings(env={"STEPWELL_DATASTORE": "azure"}, cwd=tmp_path)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0", 0), ("1048576", 1 << 20), ("500M", 500 << 20), ("10G", 10 << 30), ("2GiB", 2 << 30)],
)
def test_cache_size_takes_units(tmp_path: Path, raw: str, expected: int) -> None:
    assert load_settings(env={"STEPWELL_CACHE_BYTES": raw}, cwd=tmp_path).cache_bytes == expected


def test_a_bad_cache_size_says_what_is_valid(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="500M or 10G"):
        load_settings(env={"STEPWELL_CACHE_BYTES": "lots"}, cwd=tmp_path)


# -- Metaflow's variable names, read as aliases ---------------------------------------------


@pytest.mark.parametrize(
    ("name", "variable", "raw", "value"),
    [
        ("user", "METAFLOW_USER", "grace", "grace"),
        ("max_workers", "METAFLOW_RUN_MAX_WORKERS", "3", 3),
        ("max_num_splits", "METAFLOW_RUN_MAX_NUM_SPLITS", "250", 250),
        ("metadata", "METAFLOW_DEFAULT_METADATA", "local", "local"),
        ("datastore", "METAFLOW_DEFAULT_DATASTORE", "s3", "s3"),
        ("environment", "METAFLOW_DEFAULT_ENVIRONMENT", "pypi", "pypi"),
        ("s3_endpoint_url", "METAFLOW_S3_ENDPOINT_URL", "http://127.0.0.1:9000", None),
    ],
)
def test_each_metaflow_variable_is_an_alias(
    tmp_path: Path, name: str, variable: str, raw: str, value: object
) -> None:
    settings = load_settings(env={variable: raw}, cwd=tmp_path)
    assert getattr(settings, name) == (raw if value is None else value)
    assert settings.source(name) == f"env:{variable}"


def test_stepwell_variable_wins_over_the_metaflow_one(tmp_path: Path) -> None:
    env = {"METAFLOW_RUN_MAX_WORKERS": "3", "STEPWELL_MAX_WORKERS": "7", "METAFLOW_USER": "mf"}
    settings = load_settings(env={**env, "STEPWELL_USER": "sw"}, cwd=tmp_path)
    assert (settings.max_workers, settings.source("max_workers")) == (7, "env:STEPWELL_MAX_WORKERS")
    assert (settings.username, settings.source("user")) == ("sw", "env:STEPWELL_USER")


def test_local_sysroot_puts_home_next_to_metaflows_datastore(tmp_path: Path) -> None:
    settings = load_settings(env={"METAFLOW_DATASTORE_SYSROOT_LOCAL": str(tmp_path)}, cwd=tmp_path)
    assert settings.home == (tmp_path / ".stepwell").resolve()
    assert settings.datastore_url == str((tmp_path / ".stepwell").resolve())
    assert settings.source("home") == "env:METAFLOW_DATASTORE_SYSROOT_LOCAL"


def test_environment_setting_names_the_valid_values(tmp_path: Path) -> None:
    assert load_settings(env={}, cwd=tmp_path).environment == "local"
    with pytest.raises(ConfigError) as info:
        load_settings(env={"METAFLOW_DEFAULT_ENVIRONMENT": "docker"}, cwd=tmp_path)
    message = str(info.value)
    assert "local, pypi, uv, conda" in message and "env:METAFLOW_DEFAULT_ENVIRONMENT" in message


def test_every_alias_is_listed_for_the_client_cache_key() -> None:
    from stepwell.config import setting_variables, variables_of

    assert variables_of("home") == ("STEPWELL_HOME", "METAFLOW_DATASTORE_SYSROOT_LOCAL")
    assert {"METAFLOW_USER", "METAFLOW_DEFAULT_ENVIRONMENT"} <= set(setting_variables())
