"""Namespaces: runs of two users; what each namespace lists, and what it refuses."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from stepwell import (
    Flow,
    Metaflow,
    Run,
    Step,
    StepwellError,
    Task,
    default_namespace,
    get_namespace,
    namespace,
)
from stepwell.testing import FlowRun, run_flow

FLOWS = Path(__file__).resolve().parents[1] / "flows"
COUNTER = FLOWS / "client" / "counter_flow.py"
LINEAR = FLOWS / "shapes" / "linear_flow.py"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, FlowRun]:
    home = tmp_path_factory.mktemp("client-namespaces")
    tester, alice = {"STEPWELL_USER": "tester"}, {"STEPWELL_USER": "alice"}
    made = {
        "tester1": run_flow(COUNTER, "--n", "1", home=home, env=tester),
        "tester2": run_flow(COUNTER, "--n", "2", "--tag", "shared", home=home, env=tester),
        "alice": run_flow(COUNTER, "--n", "3", "--tag", "shared", home=home, env=alice),
        "alice_linear": run_flow(LINEAR, home=home, env=alice),
    }
    for name, made_run in made.items():
        assert made_run.ok, f"{name}: {made_run.stderr}"
    return made


@pytest.fixture(autouse=True)
def client_store(runs: dict[str, FlowRun], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPWELL_HOME", str(runs["alice"].home))
    default_namespace()
    yield
    default_namespace()


def ids(*names: str, runs: dict[str, FlowRun]) -> list[str]:
    return [runs[name].run_id for name in names]


def test_the_default_namespace_is_the_user() -> None:
    assert get_namespace() == "user:tester"
    assert namespace("user:alice") == "user:alice"
    assert get_namespace() == "user:alice"
    assert default_namespace() == "user:tester"
    assert get_namespace() == "user:tester"
    assert namespace(None) is None and get_namespace() is None


def test_listings_show_only_the_namespace(runs: dict[str, FlowRun]) -> None:
    flow = Flow("CounterFlow")
    assert [r.id for r in flow] == ids("tester2", "tester1", runs=runs)
    assert flow.latest_run.id == runs["tester2"].run_id  # alice's run is newer
    assert [f.id for f in Metaflow().flows] == ["CounterFlow"]  # LinearFlow: alice's only
    namespace("user:alice")
    assert [r.id for r in Flow("CounterFlow")] == ids("alice", runs=runs)
    assert [f.id for f in Metaflow().flows] == ["CounterFlow", "LinearFlow"]


def test_the_global_namespace_shows_everything(runs: dict[str, FlowRun]) -> None:
    namespace(None)
    assert [r.id for r in Flow("CounterFlow")] == ids("alice", "tester2", "tester1", runs=runs)
    assert Flow("CounterFlow").latest_run.id == runs["alice"].run_id
    assert [f.id for f in Metaflow()] == ["CounterFlow", "LinearFlow"]
    assert Run(f"CounterFlow/{runs['alice'].run_id}").is_in_namespace()


def test_a_user_tag_is_a_namespace(runs: dict[str, FlowRun]) -> None:
    namespace("shared")
    assert [r.id for r in Flow("CounterFlow")] == ids("alice", "tester2", runs=runs)
    assert [f.id for f in Metaflow().flows] == ["CounterFlow"]


def test_a_run_outside_the_namespace_is_refused(runs: dict[str, FlowRun]) -> None:
    pathspec = f"CounterFlow/{runs['alice'].run_id}"
    with pytest.raises(KeyError) as info:
        Run(pathspec)
    message = str(info.value)
    assert f"'{pathspec}' exists, but it is outside the current namespace 'user:tester'" in message
    assert "namespace(None)" in message and "namespace('user:alice')" in message
    assert isinstance(info.value, StepwellError)
    with pytest.raises(KeyError, match="outside the current namespace"):
        Flow("CounterFlow")[runs["alice"].run_id]
    assert runs["alice"].run_id not in Flow("CounterFlow")
    with pytest.raises(KeyError, match="outside the current namespace"):
        Step(f"{pathspec}/start")
    namespace(None)
    task_pathspec = Step(f"{pathspec}/start").task.pathspec
    default_namespace()
    with pytest.raises(KeyError, match="outside the current namespace"):
        Task(task_pathspec)


def test_a_flow_without_runs_in_the_namespace_is_refused() -> None:
    with pytest.raises(KeyError) as info:
        Flow("LinearFlow")
    message = str(info.value)
    assert "Flow 'LinearFlow' exists, but none of its runs is in the current namespace" in message
    assert "user:alice" in message and "namespace(None)" in message


def test_objects_keep_the_namespace_they_were_made_in(runs: dict[str, FlowRun]) -> None:
    flow = Flow("CounterFlow")  # made in user:tester
    namespace(None)
    assert [r.id for r in flow] == ids("tester2", "tester1", runs=runs)
    assert len(list(Flow("CounterFlow"))) == 3
    alice_run = Run(f"CounterFlow/{runs['alice'].run_id}")
    default_namespace()
    # made in the global namespace: still usable, and so are its children
    assert alice_run["start"].task.data.value == 3
    assert pickle.loads(pickle.dumps(alice_run)) == alice_run


def test_invalid_namespace_values() -> None:
    for bad in ["", "   ", 12, "a\x00b", "x" * 513]:
        with pytest.raises(ValueError, match="namespace"):
            namespace(bad)  # type: ignore[arg-type]
    assert get_namespace() == "user:tester"
