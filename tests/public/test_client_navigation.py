"""The Client API on real runs of the shape flows: the hierarchy, data, lineage, logs, pickling.

Runs are made once per module (``run_flow`` in a private STEPWELL_HOME) and
read back through ``from stepwell import ...`` only.
"""

from __future__ import annotations

import datetime as dt
import pickle
import platform
import re
from pathlib import Path

import pytest

from stepwell import (
    DataArtifact,
    Flow,
    Metaflow,
    Run,
    Step,
    StepwellError,
    Task,
    compare_runs,
    default_namespace,
)
from stepwell.testing import FlowRun, run_flow

FLOWS = Path(__file__).resolve().parents[1] / "flows"
SHAPES = FLOWS / "shapes"
CLIENT = FLOWS / "client"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, FlowRun]:
    home = tmp_path_factory.mktemp("client-navigation")
    env = {"STEPWELL_USER": "tester"}
    made = {
        "linear": run_flow(SHAPES / "linear_flow.py", home=home, env=env),
        "foreach": run_flow(SHAPES / "foreach_flow.py", home=home, env=env),
        "branch": run_flow(SHAPES / "branch_flow.py", home=home, env=env),
        "params": run_flow(SHAPES / "parameters_flow.py", home=home, env=env),
        "params2": run_flow(
            SHAPES / "parameters_flow.py", "--who", "ada", "--count", "4", home=home, env=env
        ),
        "retry": run_flow(CLIENT / "retry_once_flow.py", home=home, env=env),
    }
    for name, made_run in made.items():
        assert made_run.ok, f"{name}: {made_run.stderr}"
    return made


@pytest.fixture(autouse=True)
def client_store(runs: dict[str, FlowRun], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPWELL_HOME", str(runs["linear"].home))
    default_namespace()


def pathspec(made: FlowRun) -> str:
    return f"{made.flow_name}/{made.run_id}"


# -- flows and runs ---------------------------------------------------------------------


def test_metaflow_lists_every_flow_with_a_run() -> None:
    names = [flow.id for flow in Metaflow().flows]
    assert names == sorted(["LinearFlow", "ForeachFlow", "BranchFlow", "ParametersFlow",
                            "RetryOnceFlow"])  # fmt: skip
    assert all(isinstance(flow, Flow) for flow in Metaflow())


def test_flow_identity_and_runs(runs: dict[str, FlowRun]) -> None:
    flow = Flow("ParametersFlow")
    assert (flow.id, flow.pathspec, flow.path_components) == (
        "ParametersFlow", "ParametersFlow", ["ParametersFlow"],
    )  # fmt: skip
    assert flow.parent is None
    assert flow.tags == frozenset()
    assert [r.id for r in flow] == [runs["params2"].run_id, runs["params"].run_id]
    assert flow.latest_run == Run(pathspec(runs["params2"]))
    assert flow.latest_successful_run == flow.latest_run
    assert flow.created_at == Run(pathspec(runs["params"])).created_at
    assert runs["params"].run_id in flow
    assert "999999" not in flow
    assert flow[runs["params"].run_id] == Run(pathspec(runs["params"]))


def test_run_properties(runs: dict[str, FlowRun]) -> None:
    run = Run(pathspec(runs["linear"]))
    assert run.id == runs["linear"].run_id
    assert run.pathspec == f"LinearFlow/{run.id}"
    assert run.path_components == ["LinearFlow", run.id]
    assert run.parent == Flow("LinearFlow")
    assert "user:tester" in run.system_tags
    assert {t.split(":")[0] for t in run.system_tags} >= {"user", "runtime", "python_version"}
    assert run.user_tags == frozenset()
    assert run.tags == run.system_tags
    assert run.successful and run.finished
    code = run.code
    assert code is not None and code.info["flow_name"] == "LinearFlow"
    assert "class LinearFlow" in code.flowspec
    assert code.script_name in code.tarball.getnames()
    assert run.origin_pathspec is None
    assert isinstance(run.created_at, dt.datetime) and run.created_at.tzinfo is not None
    assert run.finished_at is not None and run.created_at <= run.finished_at
    assert abs((dt.datetime.now(dt.timezone.utc) - run.created_at).total_seconds()) < 3600
    assert run.is_in_namespace()
    assert repr(run) == f"Run('LinearFlow/{run.id}')"


def test_run_data_is_the_end_tasks_data(runs: dict[str, FlowRun]) -> None:
    run = Run(pathspec(runs["linear"]))
    assert run.end_task is not None and run.end_task.parent.id == "end"
    assert (run.data.x, run.data.doubled, run.data.squared, run.data.result) == (1, 2, 4, 5)
    assert "result" in run.data


# -- steps and tasks ----------------------------------------------------------------------


def test_run_iterates_over_steps_latest_first(runs: dict[str, FlowRun]) -> None:
    run = Run(pathspec(runs["linear"]))
    assert [step.id for step in run] == ["end", "square", "double", "start"]
    assert [step.id for step in run.steps()] == ["end", "square", "double", "start"]
    assert list(run.steps("user:tester")) == list(run)
    assert list(run.steps("no-such-tag")) == []
    assert "double" in run and "triple" not in run
    step = run["double"]
    assert isinstance(step, Step) and step == Step(f"{run.pathspec}/double")
    assert step.parent == run
    assert step.tags == run.tags
    assert step.created_at is not None and step.finished_at is not None
    assert step.created_at <= step.finished_at


def test_step_task_and_task_properties(runs: dict[str, FlowRun]) -> None:
    step = Step(f"{pathspec(runs['linear'])}/square")
    task = step.task
    assert isinstance(task, Task)
    assert list(step) == [task] and list(step.tasks()) == [task]
    assert task.parent == step and task.parent.parent == step.parent
    assert task.path_components == [*step.path_components, task.id]
    assert task.successful and task.finished
    assert task.exception is None
    assert task.index is None
    assert task.current_attempt == 0
    assert task.created_at is not None and task.created_at <= task.finished_at
    assert task.origin_pathspec is None
    assert task.code is not None and task.code.key == task.parent.parent.code.key
    assert Task(task.pathspec) == task


def test_task_data_artifacts_and_items(runs: dict[str, FlowRun]) -> None:
    task = Step(f"{pathspec(runs['linear'])}/square").task
    assert task.data.squared == 4 and task.data.doubled == 2
    implicit = {"_task_ok", "_success", "_foreach_stack"}  # Metaflow's too
    assert set(task.data) == {"x", "doubled", "squared"} | implicit
    assert task["squared"].data == 4 and task["_task_ok"].data is True
    artifact = task.artifacts.squared
    assert isinstance(artifact, DataArtifact)
    assert {a.id for a in task} == {"doubled", "squared", "x"} | implicit
    assert {a.id for a in task.artifacts} == {"doubled", "squared", "x"} | implicit
    assert "squared" in task and "cubed" not in task


def test_data_artifact(runs: dict[str, FlowRun]) -> None:
    run = Run(pathspec(runs["linear"]))
    end = run.end_task
    artifact = DataArtifact(f"{end.pathspec}/result")
    assert artifact.data == 5
    assert re.fullmatch(r"[0-9a-f]{64}", artifact.sha)
    assert artifact.size > 0
    assert artifact.task == end and artifact.parent == end
    assert artifact.finished_at == end.finished_at
    assert artifact.tags == run.tags
    # the same value stored by two tasks is one blob
    assert run["start"].task["x"].sha == end["x"].sha
    assert run["start"].task["x"].sha != end["result"].sha


def test_foreach_tasks_have_their_index(runs: dict[str, FlowRun]) -> None:
    run = Run(pathspec(runs["foreach"]))
    squares = list(run["square"])
    assert sorted(t.index for t in squares) == [0, 1, 2, 3]
    assert {t.index: t.data.square_value for t in squares} == {0: 1, 1: 4, 2: 9, 3: 16}
    assert run["start"].task.index is None
    assert run.data.sum_of_squares == 30


def test_join_parent_and_child_tasks(runs: dict[str, FlowRun]) -> None:
    run = Run(pathspec(runs["foreach"]))
    join = run["join"].task
    squares = sorted(run["square"], key=lambda t: t.id)
    assert sorted(join.parent_tasks, key=lambda t: t.id) == squares
    assert sorted(join.parent_task_pathspecs) == sorted(t.pathspec for t in squares)
    start = run["start"].task
    assert sorted(start.child_tasks, key=lambda t: t.id) == squares
    assert sorted(start.child_task_pathspecs) == sorted(t.pathspec for t in squares)
    assert list(squares[0].child_tasks) == [join]
    assert list(start.parent_tasks) == []


def test_branch_join_has_one_parent_per_branch(runs: dict[str, FlowRun]) -> None:
    run = Run(pathspec(runs["branch"]))
    join = run["join"].task
    assert sorted(t.parent.id for t in join.parent_tasks) == ["a", "b"]
    assert run.data.total == 23


# -- logs, metadata, environment ---------------------------------------------------------


def test_stdout_stderr_and_loglines(runs: dict[str, FlowRun]) -> None:
    task = Run(pathspec(runs["retry"]))["wobbly"].task
    assert task.stdout == "attempt 1 starting\n"
    assert task.stderr == ""
    lines = list(task.loglines("stdout"))
    assert [line for _, line in lines] == ["attempt 1 starting"]
    when = lines[0][0]
    assert isinstance(when, dt.datetime) and when.tzinfo is not None
    assert task.created_at <= when <= task.parent.parent.finished_at
    assert list(task.loglines("stderr")) == []
    with pytest.raises(ValueError, match="stdout"):
        list(task.loglines("stdlog"))


def test_metadata_and_environment_info(runs: dict[str, FlowRun]) -> None:
    task = Run(pathspec(runs["linear"]))["start"].task
    meta = task.metadata_dict
    assert meta["attempt"] == "0" and meta["attempt_ok"] == "True"
    assert meta["user-name"] == "tester"
    assert {m.name for m in task.metadata} >= {"attempt", "attempt_ok"}
    assert all(m.task == task for m in task.metadata)
    env = task.environment_info
    assert env["type"] == "local" and env["user"] == "tester"
    assert env["python_version"] == platform.python_version()


# -- pickling -----------------------------------------------------------------------------


def test_every_object_pickles_as_its_pathspec(runs: dict[str, FlowRun]) -> None:
    run = Run(pathspec(runs["linear"]))
    task = run["end"].task
    objects = [Flow("LinearFlow"), run, run["end"], task, task["result"]]
    for obj in objects:
        data = pickle.dumps(obj)
        assert len(data) < 400, f"{obj!r} pickles to {len(data)} bytes"
        again = pickle.loads(data)
        assert again == obj and type(again) is type(obj)
        assert again.pathspec == obj.pathspec
    assert pickle.loads(pickle.dumps(task)).data.result == 5
    assert pickle.loads(pickle.dumps(task["result"])).data == 5


# -- errors -------------------------------------------------------------------------------


def test_unknown_flow_names_the_closest(runs: dict[str, FlowRun]) -> None:
    with pytest.raises(KeyError) as info:
        Flow("LinaerFlow")
    message = str(info.value)
    assert "LinaerFlow" in message and "Did you mean 'LinearFlow'" in message
    assert "namespace 'user:tester'" in message
    assert isinstance(info.value, StepwellError)


def test_unknown_run_step_task_artifact(runs: dict[str, FlowRun]) -> None:
    run = Run(pathspec(runs["linear"]))
    with pytest.raises(KeyError, match=r"No run 'LinearFlow/999999'") as info:
        Run("LinearFlow/999999")
    assert f"latest run of LinearFlow is 'LinearFlow/{run.id}'" in str(info.value)
    with pytest.raises(KeyError, match=r"Did you mean 'double'"):
        run["doubel"]
    with pytest.raises(KeyError, match="Did you mean 'double'"):
        Step(f"{run.pathspec}/doubel")
    with pytest.raises(KeyError, match="No task"):
        Task(f"{run.pathspec}/double/987654")
    task = run["end"].task
    with pytest.raises(KeyError, match="Did you mean 'result'"):
        task["reslt"]
    with pytest.raises(AttributeError, match="Did you mean 'result'"):
        task.data.reslt  # noqa: B018
    assert not hasattr(task.data, "reslt")
    with pytest.raises(KeyError, match="has no artifact 'reslt'"):
        DataArtifact(f"{task.pathspec}/reslt")


def test_bad_pathspecs_are_value_errors() -> None:
    for cls, bad in [(Run, "LinearFlow"), (Step, "LinearFlow/1"), (Task, "A/1/s"),
                     (DataArtifact, "A/1/s/2"), (Run, "LinearFlow//"), (Flow, "")]:  # fmt: skip
        with pytest.raises(ValueError, match="pathspec"):
            cls(bad)


# -- beyond Metaflow: comparing runs, caching ------------------------------------------------


def test_compare_runs(runs: dict[str, FlowRun]) -> None:
    a, b = Run(pathspec(runs["params"])), Run(pathspec(runs["params2"]))
    diff = compare_runs(a, b)
    assert (diff.a, diff.b) == (a.pathspec, b.pathspec)
    assert diff.parameters_different == {"who": ("world", "ada"), "count": (3, 4)}
    assert set(diff.parameters_same) == {"ratio", "verbose", "model"}
    assert set(diff.artifacts_different) == {"greeting", "scaled", "who", "count"}
    assert set(diff.artifacts_same) == {
        "layer_sum", "types", "verbose_seen", "ratio", "verbose", "model",
    }  # fmt: skip
    assert diff.artifacts_only_in_a == diff.artifacts_only_in_b == []
    assert not diff.identical
    assert a.compare(a).identical
    other = compare_runs(a, Run(pathspec(runs["linear"])))
    assert "result" in other.artifacts_only_in_b and "greeting" in other.artifacts_only_in_a
    assert other.parameters_only_in_a["who"] == "world"


def test_artifact_values_are_cached_per_process(runs: dict[str, FlowRun]) -> None:
    ps = pathspec(runs["foreach"])
    first = Run(ps).data.items
    assert first == [1, 2, 3, 4]
    assert Run(ps).data.items is first  # read once, by blob key
    assert Run(ps)["start"].task.data.items is first  # the same content is the same blob
