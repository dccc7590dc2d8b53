"""Tags on runs: add, remove, replace (user tags only), validation, and tag filters."""

from __future__ import annotations

from pathlib import Path

import pytest

from stepwell import Flow, Run, StepwellError, default_namespace, namespace
from stepwell.testing import FlowRun, run_flow

COUNTER = Path(__file__).resolve().parents[1] / "flows" / "client" / "counter_flow.py"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> FlowRun:
    home = tmp_path_factory.mktemp("client-tags")
    done = run_flow(COUNTER, "--tag", "initial", home=home, env={"STEPWELL_USER": "tester"})
    assert done.ok, done.stderr
    return done


@pytest.fixture
def run(made: FlowRun, monkeypatch: pytest.MonkeyPatch) -> Run:
    """The run, with only its initial user tag (tests change tags)."""
    monkeypatch.setenv("STEPWELL_HOME", str(made.home))
    default_namespace()
    run = Run(f"CounterFlow/{made.run_id}")
    extra = run.user_tags - {"initial"}
    if extra:
        run.remove_tags(sorted(extra))
    run.add_tag("initial")
    return run


def test_tags_given_at_run_time(run: Run) -> None:
    assert run.user_tags == {"initial"}
    assert "user:tester" in run.system_tags and "initial" not in run.system_tags
    assert run.tags == run.system_tags | {"initial"}
    assert run["start"].task.tags == run.tags  # tasks carry their run's tags


def test_add_and_remove_tags_persist(run: Run) -> None:
    run.add_tag("gold")
    run.add_tags(["v1", "v2", "gold"])
    assert run.user_tags == {"initial", "gold", "v1", "v2"}
    assert Run(run.pathspec).user_tags == {"initial", "gold", "v1", "v2"}
    run.remove_tag("v1")
    run.remove_tags(["v2", "never-there"])
    assert Run(run.pathspec).user_tags == {"initial", "gold"}


def test_replace_tags(run: Run) -> None:
    run.replace_tag("initial", "candidate")
    assert Run(run.pathspec).user_tags == {"candidate"}
    run.replace_tags(["candidate"], ["production", "v3"])
    assert Run(run.pathspec).user_tags == {"production", "v3"}
    run.replace_tags(["v3"], ["v3"])  # removing and adding one tag keeps it
    assert Run(run.pathspec).user_tags == {"production", "v3"}


def test_tags_filter_runs_and_make_namespaces(run: Run) -> None:
    run.add_tag("blessed")
    flow = Flow("CounterFlow")
    assert [r.id for r in flow.runs("blessed")] == [run.id]
    assert [r.id for r in flow.runs("blessed", "user:tester")] == [run.id]
    assert list(flow.runs("blessed", "other")) == []
    namespace("blessed")
    assert Flow("CounterFlow").latest_run == run


def test_system_tags_are_immutable(run: Run) -> None:
    for change in (
        lambda: run.remove_tag("user:tester"),
        lambda: run.replace_tag("user:tester", "user:mallory"),
    ):
        with pytest.raises(ValueError, match="system tags are immutable") as info:
            change()
        assert isinstance(info.value, StepwellError)
    assert "user:tester" in Run(run.pathspec).system_tags
    assert "user:mallory" not in Run(run.pathspec).tags
    assert Run(run.pathspec).user_tags == {"initial"}


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("x" * 513, "513 characters"),
        ("new\nline", "control character"),
        ("tab\there", "control character"),
        ("bell\x07", "control character"),
        (42, "expected a string"),
        (None, "expected a string"),
    ],
)
def test_invalid_tags_are_refused(run: Run, bad: object, reason: str) -> None:
    for change in (
        lambda: run.add_tag(bad),  # type: ignore[arg-type]
        lambda: run.add_tags(["fine", bad]),  # type: ignore[list-item]
        lambda: run.remove_tag(bad),  # type: ignore[arg-type]
        lambda: run.replace_tag("initial", bad),  # type: ignore[arg-type]
    ):
        with pytest.raises(ValueError, match=reason):
            change()
    assert Run(run.pathspec).user_tags == {"initial"}  # nothing half-done


@pytest.mark.parametrize("spoof", ["user:mallory", "runtime:cloud", "python_version:2.7"])
def test_user_tags_cannot_pose_as_system_tags(run: Run, spoof: str) -> None:
    for change in (lambda: run.add_tag(spoof), lambda: run.replace_tag("initial", spoof)):
        with pytest.raises(ValueError, match="system tags") as info:
            change()
        assert isinstance(info.value, StepwellError)
    assert Run(run.pathspec).user_tags == {"initial"}
    run.add_tag("users:are-fine")  # only the exact prefixes are reserved


def test_tag_limits_and_strings(run: Run) -> None:
    longest = "y" * 512
    run.add_tag(longest)
    assert longest in Run(run.pathspec).user_tags
    run.add_tag("ünïcode tag ✓")
    assert "ünïcode tag ✓" in Run(run.pathspec).user_tags
    with pytest.raises(ValueError, match="not the string"):
        run.add_tags("abc")
