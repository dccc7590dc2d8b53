"""Every flow shape compiles to a WorkflowTemplate Argo's schema accepts, wired as it should be."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from argo_helpers import (
    FLOWS,
    SHAPES,
    arguments,
    command,
    compile_file,
    option_values,
    task,
    template,
)

from stepwell.deploy import finish_run_command
from stepwell.exceptions import ConfigError
from stepwell.flow import load_flow_class
from stepwell.graph import check_flow

SHAPE_FILES = sorted(p for p in SHAPES.glob("*_flow.py") if p.name != "parallel_flow.py")


@pytest.mark.parametrize("path", SHAPE_FILES, ids=lambda p: p.stem)
def test_every_shape_compiles_to_valid_documents(path: Path) -> None:
    (document,) = compile_file(path)
    assert document["kind"] == "WorkflowTemplate"
    assert document["spec"]["entrypoint"] == "main"
    graph = check_flow(load_flow_class(path))
    commands = [
        t["container"]["command"] for t in document["spec"]["templates"] if "container" in t
    ]
    steps = {argv[argv.index("task") + 1] for argv in commands if "task" in argv}
    assert steps == {node.name for node in graph}  # every step runs, as the one-task command
    for argv in commands:
        if "task" in argv:
            assert option_values(argv, "--run-key") == ["argo-{{workflow.uid}}"]
            assert option_values(argv, "--output-dir") == ["/tmp/stepwell/out"]


def test_a_parallel_step_is_refused_with_its_location() -> None:
    with pytest.raises(ConfigError, match="num_parallel/@parallel") as caught:
        compile_file(SHAPES / "parallel_flow.py")
    assert "parallel_flow.py:" in str(caught.value)


def test_linear_steps_pass_each_other_their_pathspec() -> None:
    (doc,) = compile_file(SHAPES / "linear_flow.py")
    tasks = template(doc, "main")["dag"]["tasks"]
    for before, after in itertools.pairwise(tasks):
        assert after["depends"] == f"{before['name']}.Succeeded"
        assert arguments(after) == {
            "input": f"{{{{tasks.{before['name']}.outputs.parameters.pathspec}}}}"
        }
        assert "when" not in after
    start = command(doc, "start")
    assert option_values(start, "--runtime") == ["argo-workflows"]
    assert "--input" not in start


def test_a_static_join_gets_one_input_per_branch() -> None:
    (doc,) = compile_file(SHAPES / "branch_flow.py")
    join = task(doc, "main", "join")
    assert join["depends"] == "a.Succeeded && b.Succeeded"
    assert arguments(join) == {
        "input-0": "{{tasks.a.outputs.parameters.pathspec}}",
        "input-1": "{{tasks.b.outputs.parameters.pathspec}}",
    }
    assert option_values(command(doc, "join"), "--input") == [
        "{{inputs.parameters.input-0}}",
        "{{inputs.parameters.input-1}}",
    ]


def test_a_foreach_fans_out_from_its_parents_output() -> None:
    (doc,) = compile_file(SHAPES / "foreach_flow.py")
    square = task(doc, "main", "square")
    assert square["withParam"] == "{{tasks.start.outputs.parameters.splits}}"
    assert arguments(square)["split-index"] == "{{item}}"
    assert option_values(command(doc, "square"), "--split-index") == [
        "{{inputs.parameters.split-index}}"
    ]
    outputs = {p["name"]: p for p in template(doc, "start")["outputs"]["parameters"]}
    assert outputs["splits"]["valueFrom"]["path"] == "/tmp/stepwell/out/splits"
    join = task(doc, "main", "join")
    assert join["depends"] == "square.Succeeded"
    # one pathspec, whatever the width: the command finds the split's tasks in the run
    assert arguments(join) == {"inputs-of-split": "{{tasks.start.outputs.parameters.pathspec}}"}
    assert option_values(command(doc, "join"), "--inputs-of-split") == [
        "{{inputs.parameters.inputs-of-split}}"
    ]
    assert "--split-index" not in command(doc, "join")


def test_a_nested_foreach_is_a_dag_template_called_per_split() -> None:
    (doc,) = compile_file(SHAPES / "nested_foreach_flow.py")
    outer = task(doc, "main", "outer")
    assert outer["template"] == "foreach-outer"
    assert outer["withParam"] == "{{tasks.start.outputs.parameters.splits}}"
    body = template(doc, "foreach-outer")
    assert [p["name"] for p in body["inputs"]["parameters"]] == ["input", "split-index"]
    assert arguments(task(doc, "foreach-outer", "outer")) == {
        "input": "{{inputs.parameters.input}}",
        "split-index": "{{inputs.parameters.split-index}}",
    }
    inner = task(doc, "foreach-outer", "inner")
    assert inner["withParam"] == "{{tasks.outer.outputs.parameters.splits}}"
    (out,) = body["outputs"]["parameters"]
    assert out["valueFrom"]["parameter"] == "{{tasks.join-inner.outputs.parameters.pathspec}}"
    assert arguments(task(doc, "main", "join-outer")) == {
        "inputs-of-split": "{{tasks.start.outputs.parameters.pathspec}}"
    }
    assert arguments(task(doc, "foreach-outer", "join-inner")) == {
        "inputs-of-split": "{{tasks.outer.outputs.parameters.pathspec}}"
    }


def test_switch_cases_run_on_the_choice_and_meet_again() -> None:
    (doc,) = compile_file(SHAPES / "switch_flow.py")
    for case in ("fast", "slow"):
        assert task(doc, "main", case)["when"] == (
            f"'{{{{tasks.start.outputs.parameters.chosen}}}}' == '{case}'"
        )
    finish = task(doc, "main", "finish")
    assert finish["depends"] == "fast.Succeeded || slow.Succeeded"
    assert "when" not in finish
    assert arguments(finish)["input"] == (
        "{{=tasks['start'].outputs.parameters.chosen == 'fast' ? "
        "tasks['fast'].outputs.parameters.pathspec : tasks['slow'].outputs.parameters.pathspec}}"
    )
    names = [p["name"] for p in template(doc, "start")["outputs"]["parameters"]]
    assert "chosen" in names


def test_a_switch_inside_a_case_and_a_case_straight_to_the_meeting_step() -> None:
    (doc,) = compile_file(FLOWS / "argo_nested_switch_flow.py")
    meet = task(doc, "main", "meet")
    chosen = "'{{tasks.%s.outputs.parameters.chosen}}' == '%s'"
    assert meet["when"] == (
        f"{chosen % ('start', 'meet')} || ({chosen % ('start', 'a')} && {chosen % ('a', 'x')})"
        f" || ({chosen % ('start', 'a')} && {chosen % ('a', 'y')})"
    )
    value = arguments(meet)["input"]
    # the outer choice is read before the inner switch's, which may not have run
    assert value.index("tasks['start']") < value.index("tasks['a']")
    assert value.startswith("{{=tasks['start'].outputs.parameters.chosen == 'meet' ? ")


def test_recursion_is_a_template_that_calls_itself() -> None:
    (doc,) = compile_file(SHAPES / "recursion_flow.py")
    assert task(doc, "main", "loop")["template"] == "loop-loop"
    again = task(doc, "loop-loop", "loop-again")
    assert again["template"] == "loop-loop"
    assert again["when"] == "'{{tasks.loop.outputs.parameters.chosen}}' == 'loop'"
    assert arguments(again) == {"input": "{{tasks.loop.outputs.parameters.pathspec}}"}
    outputs = {
        p["name"]: p["valueFrom"]["expression"]
        for p in template(doc, "loop-loop")["outputs"]["parameters"]
    }
    assert outputs["pathspec"] == (
        "tasks['loop'].outputs.parameters.chosen == 'loop' ? "
        "tasks['loop-again'].outputs.parameters.pathspec : "
        "tasks['loop'].outputs.parameters.pathspec"
    )
    end = task(doc, "main", "end")
    assert end["when"] == "'{{tasks.loop.outputs.parameters.chosen}}' == 'end'"
    assert arguments(end) == {"input": "{{tasks.loop.outputs.parameters.pathspec}}"}


def test_a_loop_of_two_steps() -> None:
    (doc,) = compile_file(SHAPES / "loop_back_flow.py")
    body = [t["name"] for t in template(doc, "loop-attempt")["dag"]["tasks"]]
    assert body == ["attempt", "check", "attempt-again"]
    assert task(doc, "loop-attempt", "attempt-again")["depends"] == "check.Succeeded"


def test_a_foreach_split_looping_on_its_first_step_reenters_without_a_split_index() -> None:
    (doc,) = compile_file(FLOWS / "argo_foreach_loop_flow.py")
    assert task(doc, "foreach-grow", "grow")["template"] == "loop-grow"
    assert task(doc, "loop-grow", "grow-again")["template"] == "loop-grow-again"
    assert task(doc, "loop-grow-again", "grow-again")["template"] == "loop-grow-again"
    assert "--split-index" in command(doc, "grow")
    assert "--split-index" not in command(doc, "grow-again")
    assert option_values(command(doc, "grow-again"), "--input") == ["{{inputs.parameters.input}}"]


def test_the_exit_handler_finishes_the_run_and_may_announce_it() -> None:
    (doc,) = compile_file(SHAPES / "linear_flow.py")
    assert doc["spec"]["onExit"] == "exit-handler"
    assert [[s["name"] for s in group] for group in template(doc, "exit-handler")["steps"]] == [
        ["finish-run"]
    ]
    assert command(doc, "finish-run") == finish_run_command(
        "LinearFlow", run_key="argo-{{workflow.uid}}", status="{{workflow.status}}"
    )
    (doc,) = compile_file(
        SHAPES / "linear_flow.py", events_webhook_url="http://events:12000/stepwell"
    )
    publish = template(doc, "publish-finished")["http"]
    assert publish["url"] == "http://events:12000/stepwell" and publish["method"] == "POST"
    assert '"name": "stepwell.finished.LinearFlow"' in publish["body"]
    assert "{{workflow.outputs.parameters.stepwell-run-id}}" in publish["body"]
    (_, second) = template(doc, "exit-handler")["steps"]
    assert second[0]["when"] == "'{{workflow.status}}' == 'Succeeded'"
    start_outputs = template(doc, "start")["outputs"]["parameters"]
    assert {"name": "run_id", "valueFrom": {"path": "/tmp/stepwell/out/run_id"},
            "globalName": "stepwell-run-id"} in start_outputs  # fmt: skip


def test_step_names_that_need_a_hash_are_used_consistently() -> None:
    (doc,) = compile_file(FLOWS / "argo_names_flow.py")
    names = [t["name"] for t in doc["spec"]["templates"]]
    hashed = [n for n in names if re.search(r"-[0-9a-f]{6}$", n)]
    assert len(hashed) == 2 and all(len(n) <= 63 for n in names)
    steps = doc["metadata"]["annotations"]["stepwell.dev/steps"]
    for name in hashed:
        assert f'"{name}"' in steps  # the mapping back to the step's own name is kept
