"""The command lines Metaflow users type: top-level options, pathspec forms, Metaflow's options."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stepwell.client import Flow, Run
from stepwell.testing import run_flow

FLOWS = Path(__file__).parents[1] / "flows"
FLOW = FLOWS / "cli" / "inspect_me_flow.py"
STEPWELL = [sys.executable, "-m", "stepwell.cli"]


def _cli(*argv: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=120,
                          check=False, env={**os.environ, **env})  # fmt: skip


def _flow(*args: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
    return _cli(sys.executable, FLOW, *args, **env)


@pytest.fixture
def done(stepwell_home: Path) -> str:
    """The id of a finished run of InspectMeFlow."""
    run = run_flow(FLOW, home=stepwell_home)
    assert run.ok, run.stderr
    assert run.run_id is not None
    return run.run_id


# -- top-level options ---------------------------------------------------------------------


def test_metaflow_style_top_level_options_run_the_flow(stepwell_home: Path) -> None:
    out = _flow("--metadata=local", "--datastore=local", "--environment=local", "run")
    assert out.returncode == 0, out.stderr
    assert Flow("InspectMeFlow").latest_run.successful


def test_top_level_options_in_any_order_and_both_forms(stepwell_home: Path) -> None:
    out = _flow("--no-pylint", "--monitor=nullSidecarMonitor", "--event-logger",
                "nullSidecarLogger", "--package-suffixes=.py,.R", "--quiet", "--datastore",
                "local", "--with", "retry:times=1", "run")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""
    assert Flow("InspectMeFlow").latest_run.successful


@pytest.mark.parametrize("environment", ["pypi", "uv", "conda"])
def test_environment_pypi_uv_conda_is_accepted_and_a_flow_without_pypi_needs_no_uv(
    stepwell_home: Path, environment: str
) -> None:
    out = _flow(f"--environment={environment}", "run")
    assert out.returncode == 0, out.stderr
    assert "environment" not in out.stderr.lower()  # no note, nothing resolved or built
    assert not (stepwell_home / "environments").exists()


@pytest.mark.parametrize("datastore", ["azure", "gs"])
def test_a_datastore_stepwell_lacks_stops_with_what_is_supported(
    stepwell_home: Path, datastore: str
) -> None:
    out = _flow(f"--datastore={datastore}", "run")
    assert out.returncode == 1
    assert f"Setting 'datastore' must be 'local' or 's3'; got '{datastore}'" in out.stderr
    assert "stepwell supports the datastores local and s3" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (stepwell_home / "stepwell.db").exists()


def test_metadata_service_stops_with_what_is_supported(stepwell_home: Path) -> None:
    out = _flow("--metadata=service", "run")
    assert out.returncode == 1
    assert "Setting 'metadata' must be 'local' or a postgresql:// URL; got 'service'" in out.stderr
    assert "stepwell needs no metadata service" in out.stderr
    assert "Traceback" not in out.stderr


def test_an_unknown_environment_lists_the_valid_ones() -> None:
    out = _flow("--environment=docker", "check")
    assert out.returncode == 2
    assert "'local', 'pypi', 'uv', 'conda'" in out.stderr


def test_metadata_reaches_dump_logs_tag_and_card(pg_url: str, stepwell_home: Path) -> None:
    run = run_flow(FLOW, "--tag", "pg", home=stepwell_home, command=("--metadata", pg_url, "run"))
    assert run.ok, run.stderr
    meta = ("--metadata", pg_url)
    assert "small = 7" in _flow(*meta, "dump", f"{run.run_id}/start").stdout
    assert "start says hello" in _flow(*meta, "logs", f"{run.run_id}/start").stdout
    assert _flow(*meta, "tag", "list", "--flat", "--hide-system-tags").stdout.split() == ["pg"]
    assert "type=default" in _flow(*meta, "card", "list", "start").stdout
    elsewhere = _flow("dump", f"{run.run_id}/start")  # the local store has no such run
    assert elsewhere.returncode == 1


# -- stepwell [TOP-LEVEL OPTIONS] run [TOP-LEVEL OPTIONS] FILE [run options] ---------------


def test_stepwell_run_passes_top_level_options_on(stepwell_home: Path) -> None:
    out = _cli(*STEPWELL, "--metadata", "local", "run", "--quiet", FLOW,
               "--tag", "via-stepwell")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "started by" not in out.stderr and out.stdout == ""  # --quiet reached the run
    assert "via-stepwell" in Flow("InspectMeFlow").latest_run.user_tags


def test_stepwell_refuses_a_datastore_it_lacks_before_the_file_runs(stepwell_home: Path) -> None:
    out = _cli(*STEPWELL, "--datastore", "azure", "run", FLOW)
    assert out.returncode == 1
    assert "stepwell supports the datastores local and s3" in out.stderr


def test_stepwell_resume_of_a_file(done: str) -> None:
    out = _cli(*STEPWELL, "resume", "--quiet", FLOW, "--origin-run-id", done)
    assert out.returncode == 0, out.stderr
    latest = Flow("InspectMeFlow").latest_run
    assert latest.id != done and latest.successful


def test_stepwell_dump_logs_tag_card_by_pathspec(done: str, tmp_path: Path) -> None:
    run = f"InspectMeFlow/{done}"
    assert "total = 30" in _cli(*STEPWELL, "dump", f"{run}/join").stdout
    assert "part 2 out" in _cli(*STEPWELL, "logs", f"{run}/part").stdout
    tagged = _cli(*STEPWELL, "tag", "add", "--run-id", run, "kept")
    assert tagged.returncode == 0, tagged.stderr
    assert "kept" in Run(run).user_tags
    target = tmp_path / "card.html"
    got = _cli(*STEPWELL, "card", "get", f"{run}/start", target)
    assert got.returncode == 0, got.stderr
    assert target.read_text().startswith("<!DOCTYPE html>")


# -- pathspec forms ----------------------------------------------------------------------


def test_card_view_by_step_and_by_run_and_step(done: str, tmp_path: Path) -> None:
    for spec in ("start", f"{done}/start"):
        out = _flow("card", "view", spec, TMPDIR=str(tmp_path))
        assert out.returncode == 0, out.stderr
        page = Path(out.stdout.strip())
        assert page.parent == tmp_path and f"/{done}/start/" in page.read_text()


def test_card_of_a_step_with_several_tasks_lists_them(done: str) -> None:
    out = _flow("card", "get", f"{done}/part")
    assert out.returncode == 1
    assert "has 2 tasks; name one:" in out.stderr
    assert out.stderr.count(f"InspectMeFlow/{done}/part/") == 2


def test_step_alone_names_the_latest_run(done: str, stepwell_home: Path) -> None:
    assert run_flow(FLOW, home=stepwell_home).ok
    latest = Flow("InspectMeFlow").latest_run.id
    out = _flow("dump", "join")
    assert f"InspectMeFlow/{latest}/join/" in out.stdout and latest != done


def test_logs_and_dump_of_a_step_cover_every_task(done: str) -> None:
    logs = _flow("logs", f"{done}/part")
    assert "part 1 out" in logs.stdout and "part 2 out" in logs.stdout
    assert logs.stderr.count(f"== InspectMeFlow/{done}/part/") == 2
    dump = _flow("dump", f"{done}/part", "--include", "value")
    assert "value = 10" in dump.stdout and "value = 20" in dump.stdout


# -- Metaflow's options --------------------------------------------------------------------


def test_dump_private_and_max_value_size(done: str) -> None:
    plain = _flow("dump", f"{done}/start").stdout
    assert "_sauce" not in plain
    assert "big = <str, " in plain and "bytes: over --max-value-size 1000>" in plain
    assert "small = 7" in plain
    assert "_sauce = 'secret recipe'" in _flow("dump", f"{done}/start", "--private").stdout
    tiny = _flow("dump", f"{done}/start", "--max-value-size", "0").stdout
    assert "small = <int, " in tiny


def test_dump_include_and_file(done: str, tmp_path: Path) -> None:
    import pickle

    target = tmp_path / "out.pkl"
    out = _flow("dump", f"{done}/start", "--include", "small,_sauce", "--file", target)
    assert out.returncode == 0, out.stderr
    [values] = pickle.loads(target.read_bytes()).values()
    assert values == {"small": 7, "_sauce": "secret recipe"}


def test_logs_one_stream_and_timestamps(done: str) -> None:
    out = _flow("logs", f"{done}/start", "--stdout")
    assert "start says hello" in out.stdout and "start complains" not in out.stderr
    err = _flow("logs", f"{done}/start", "--stderr")
    assert "start complains" in err.stderr and "start says hello" not in err.stdout
    stamped = _flow("logs", f"{done}/start", "--stdout", "--timestamps").stdout.splitlines()
    assert stamped[0].endswith(" start says hello") and stamped[0][:2] == "20"


def test_card_list_as_json_to_file_and_by_type_and_hash(done: str, tmp_path: Path) -> None:
    listed = json.loads(_flow("card", "list", f"{done}/start", "--as-json").stdout)
    assert listed["pathspec"] == f"InspectMeFlow/{done}/start/1"
    [entry] = listed["cards"]
    assert entry["type"] == "default" and entry["id"] is None
    target = tmp_path / "cards.json"
    assert _flow("card", "list", "start", "--file", target).returncode == 0
    assert json.loads(target.read_text()) == listed
    by_hash = _flow("card", "get", "start", "--hash", entry["hash"][:10], "--type", "default")
    assert by_hash.returncode == 0 and "<html" in by_hash.stdout
    wrong = _flow("card", "get", "start", "--type", "blank")
    assert wrong.returncode == 1 and "no card matching type='blank'" in wrong.stderr


def test_tag_commands_as_metaflow_scripts_call_them(done: str) -> None:
    rid = ("--run-id", done)
    assert _flow("tag", "add", "a", "b", *rid).returncode == 0
    assert _flow("tag", "replace", "--remove", "a", "--add", "c", *rid).returncode == 0
    assert _flow("tag", "replace", "b", "d", *rid).returncode == 0
    flat = _flow("tag", "list", "--flat", "--hide-system-tags", *rid)
    assert flat.stdout.splitlines() == ["c", "d"]
    everything = _flow("tag", "list", done, "--flat").stdout.splitlines()
    assert "user:tester" in everything and "c" in everything
    assert _flow("tag", "remove", "c", *rid).returncode == 0
    assert set(Run(f"InspectMeFlow/{done}").user_tags) == {"d"}


def test_package_suffixes_choose_the_files_of_the_code_package(
    stepwell_home: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    flow = project / FLOW.name
    flow.write_text(FLOW.read_text())
    (project / "query.sql").write_text("select 1\n")
    (project / "notes.txt").write_text("not packaged\n")
    plain = _cli(sys.executable, flow, "run")
    assert plain.returncode == 0, plain.stderr
    assert "query.sql" not in Flow("InspectMeFlow").latest_run.code.tarball.getnames()
    wider = _cli(sys.executable, flow, "--package-suffixes=.py,.sql", "run")
    assert wider.returncode == 0, wider.stderr
    names = Flow("InspectMeFlow").latest_run.code.tarball.getnames()
    assert {"inspect_me_flow.py", "query.sql"} <= set(names) and "notes.txt" not in names
    aliased = _cli(sys.executable, flow, "run", METAFLOW_DEFAULT_PACKAGE_SUFFIXES=".txt,.py")
    assert aliased.returncode == 0, aliased.stderr
    assert "notes.txt" in Flow("InspectMeFlow").latest_run.code.tarball.getnames()
    empty = _cli(sys.executable, flow, "--package-suffixes=,", "run")
    assert empty.returncode == 1 and "needs at least one suffix" in empty.stderr


def test_card_list_of_a_step_lists_every_task(stepwell_home: Path) -> None:
    assert _flow("--with", "card", "run").returncode == 0
    run_id = Flow("InspectMeFlow").latest_run.id
    out = _flow("card", "list", f"{run_id}/part", "--as-json")
    assert out.returncode == 0, out.stderr
    listed = json.loads(out.stdout)
    assert sorted(entry["pathspec"].split("/")[2] for entry in listed) == ["part", "part"]
    assert all(len(entry["cards"]) == 1 for entry in listed)
    text = _flow("card", "list", "part")
    assert text.returncode == 0 and text.stdout.count(f"InspectMeFlow/{run_id}/part/") == 2


def test_tag_list_of_many_runs(stepwell_home: Path) -> None:
    assert run_flow(FLOW, "--tag", "first", home=stepwell_home).ok
    assert run_flow(FLOW, "--tag", "second", home=stepwell_home, env={"STEPWELL_USER": "bob"}).ok
    mine = _flow("tag", "list", "--my-runs", "--hide-system-tags")
    assert mine.returncode == 0, mine.stderr
    assert mine.stdout.splitlines() == ["InspectMeFlow/1: user tags: first"]
    everyone = _flow("tag", "list", "--all", "--group-by-tag")
    assert everyone.returncode == 0, everyone.stderr
    lines = everyone.stdout.splitlines()
    assert "first: 1" in lines and "second: 2" in lines and "user:bob: 2" in lines
    by_name = _cli(*STEPWELL, "tag", "list", "--all", "--run-id", "InspectMeFlow")
    assert "InspectMeFlow/2: user tags: second" in by_name.stdout
