"""`stepwell settings`: every setting, its value and its source; passwords never shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from stepwell.cli._settings_cmd import settings, settings_rows


def test_rows_name_the_variable_the_file_or_the_default(tmp_path: Path) -> None:
    (tmp_path / "stepwell.toml").write_text("max_workers = 3\n")
    env = {"METAFLOW_DEFAULT_DATASTORE": "s3", "STEPWELL_USER": "ada"}
    rows = {row["name"]: row for row in settings_rows(env=env, cwd=tmp_path)}
    assert (rows["datastore"]["value"], rows["datastore"]["source"]) == (
        "s3",
        "env:METAFLOW_DEFAULT_DATASTORE",
    )
    assert rows["user"]["source"] == "env:STEPWELL_USER"
    assert rows["max_workers"]["source"] == str(tmp_path / "stepwell.toml")
    assert rows["environment"] == {
        "name": "environment",
        "value": "local",
        "source": "default",
        "variables": ["STEPWELL_ENVIRONMENT", "METAFLOW_DEFAULT_ENVIRONMENT"],
    }


def test_a_password_in_a_url_is_redacted(tmp_path: Path) -> None:
    env = {"METAFLOW_DEFAULT_METADATA": "postgresql://alice:s3cret@db.example.com/stepwell"}
    [row] = [r for r in settings_rows(env=env, cwd=tmp_path) if r["name"] == "metadata"]
    assert row["value"] == "postgresql://alice:***@db.example.com/stepwell"


def test_the_command_prints_every_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("METAFLOW_RUN_MAX_WORKERS", "5")
    monkeypatch.setenv("METAFLOW_DEFAULT_METADATA", "postgresql://bob:hunter2@db/sw")
    result = CliRunner().invoke(settings, [])
    assert result.exit_code == 0, result.output
    assert "hunter2" not in result.output
    line = next(x for x in result.output.splitlines() if x.startswith("max_workers"))
    assert line.split() == ["max_workers", "5", "(env:METAFLOW_RUN_MAX_WORKERS)"]
    as_json = json.loads(CliRunner().invoke(settings, ["--json"]).output)
    assert [r["name"] for r in as_json][:2] == ["home", "executor"]


def test_a_bad_value_is_an_error_naming_its_source(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("METAFLOW_DEFAULT_ENVIRONMENT", "docker")
    result = CliRunner().invoke(settings, [])
    assert result.exit_code == 1 and "METAFLOW_DEFAULT_ENVIRONMENT" in result.output
