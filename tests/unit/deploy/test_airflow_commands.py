"""The command lines of a generated DAG file: run its helper functions, parse what they build.

The DAG file's module-level functions (everything but the ``@task`` ones, which need
Airflow) are executed here with a stand-in for Airflow's task instance; the command lines
they return are parsed by stepwell's own ``stepwell task`` / ``finish-run`` commands and
rendered by Jinja as Airflow renders a task's command.
"""

from __future__ import annotations

import ast
import json
import shlex
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import click
import pytest

from stepwell.cli._flowcli import build_cli
from stepwell.cli._main import main
from stepwell.config import load_settings
from stepwell.deploy.airflow import AirflowOptions
from stepwell.deploy.airflow._create import create_dag
from stepwell.flow import load_flow_class

FLOWS = Path(__file__).parents[2] / "deploy" / "flows"
RUN_ID = "manual__2026-12-05T10:00:00+00:00"


def helpers(path: Path, tmp_path: Path, **options: Any) -> dict[str, Any]:
    """The DAG file's constants and plain functions, executed (the file is compiled first)."""
    source = create_dag(
        load_flow_class(path), load_settings(), flow_file=str(path),
        dag_file=tmp_path / "dag.py", options=AirflowOptions(**options),
    ).source  # fmt: skip
    tree = ast.parse(source)
    keep = [
        node
        for node in tree.body
        if isinstance(node, ast.Assign)
        or (isinstance(node, ast.FunctionDef) and not node.decorator_list)
    ]
    namespace: dict[str, Any] = {"json": json, "shlex": shlex, "Any": Any}
    exec(compile(ast.Module(body=keep, type_ignores=[]), "dag.py", "exec"), namespace)
    return namespace


def ti(try_number: int = 1, states: dict[str, str] | None = None) -> Any:
    """What the helpers read of Airflow's task instance."""
    found = {RUN_ID: states or {}}
    return SimpleNamespace(
        dag_id="AirflowShapesFlow", run_id=RUN_ID, try_number=try_number,
        get_task_states=lambda dag_id, run_ids: found if run_ids == [RUN_ID] else {},
    )  # fmt: skip


def parse_task(argv: list[str]) -> dict[str, Any]:
    """``stepwell task ...`` parsed as stepwell parses it: the flow's task command's options."""
    assert argv[:2] == ["stepwell", "task"]
    outer = main.commands["task"].make_context("task", argv[2:])
    flow_cls = load_flow_class(FLOWS / "airflow_shapes.py")
    inner_cmd = build_cli(flow_cls).commands["task"]
    package = outer.params["package"]
    extra = ["--package", package] if package else []  # as `stepwell task` passes it on
    inner = inner_cmd.make_context("task", [outer.params["step"], *outer.args, *extra])
    return {**outer.params, **inner.params}


def test_every_task_command_parses_with_the_run_key_and_the_attempt(tmp_path: Path) -> None:
    found = helpers(FLOWS / "airflow_shapes.py", tmp_path)
    argv = found["stepwell_task"]("square", ti(try_number=2), *found["split_input"](
        {"pathspec": "AirflowShapesFlow/1/start/t1", "split_index": 2}
    ))  # fmt: skip
    parsed = parse_task(argv)
    assert parsed["step"] == "square"
    assert parsed["flow_file"] == "airflow_shapes.py"
    assert parsed["run_key"] == f"airflow-AirflowShapesFlow-{RUN_ID}"
    assert parsed["package"] == found["PACKAGE"] and len(found["PACKAGE"]) == 64
    assert parsed["attempt"] == 1  # Airflow's second try is stepwell's attempt 1
    assert parsed["inputs"] == ("AirflowShapesFlow/1/start/t1",)
    assert parsed["split_index"] == 2
    assert parsed["runtime"] == "airflow"


def test_join_and_switch_inputs(tmp_path: Path) -> None:
    found = helpers(FLOWS / "airflow_shapes.py", tmp_path)
    each = found["each_input"]([{"pathspec": f"F/1/square/t{i}"} for i in range(3)])
    parsed = parse_task(found["stepwell_task"]("gather", ti(), *each))
    assert json.loads(parsed["inputs_json"]) == ["F/1/square/t0", "F/1/square/t1", "F/1/square/t2"]
    # after a switch only one branch ran: the skipped one's result is None
    ran = found["inputs"](None, {"pathspec": "F/1/big/t9"})
    assert parse_task(found["stepwell_task"]("end", ti(), *ran))["inputs"] == ("F/1/big/t9",)
    both = found["inputs"]({"pathspec": "F/1/left/t1"}, {"pathspec": "F/1/right/t2"})
    assert parse_task(found["stepwell_task"]("meet", ti(), *both))["inputs"] == (
        "F/1/left/t1",
        "F/1/right/t2",
    )


def test_parameters_are_passed_as_text_or_json_and_unset_ones_are_left_out(
    tmp_path: Path,
) -> None:
    found = helpers(FLOWS / "airflow_decorated.py", tmp_path)
    params = {"alpha": 0.25, "rounds": 4, "name": "ann", "verbose": True,
              "spec": {"b": [3]}, "note": None, "not_a_parameter": "x"}  # fmt: skip
    assert found["parameters"](params) == [
        "--param", "alpha=0.25", "--param", "rounds=4", "--param", "name=ann",
        "--param", "verbose=True", "--param", 'spec={"b": [3]}',
    ]  # fmt: skip


@pytest.mark.parametrize(
    "text", ["it's", "{{ 1 + 1 }}", "{% if %}", "{# c #}", '$HOME `id` "q"', "a\nb", "}}"]
)
def test_a_command_survives_airflows_templating_and_the_shell_unchanged(
    text: str, tmp_path: Path
) -> None:
    from jinja2.sandbox import SandboxedEnvironment

    found = helpers(FLOWS / "airflow_shapes.py", tmp_path)
    argv = found["stepwell_task"]("start", ti(), *found["parameters"]({"label": text}))
    rendered = SandboxedEnvironment().from_string(found["shell"](argv)).render()
    assert shlex.split(rendered) == argv
    assert parse_task(argv)["params"] == (f"label={text}",)


def test_the_finish_command_says_failed_when_a_task_failed(tmp_path: Path) -> None:
    found = helpers(FLOWS / "airflow_shapes.py", tmp_path)
    ok = found["finish_command"](ti(states={"start": "success", "small": "skipped"}))
    failed = found["finish_command"](ti(states={"start": "success", "end": "upstream_failed"}))
    for argv, status in ((ok, "Succeeded"), (failed, "Failed")):
        assert argv[:2] == ["stepwell", "finish-run"]
        ctx = main.commands["finish-run"].make_context("finish-run", argv[2:])
        assert ctx.params == {
            "flow": "AirflowShapesFlow",
            "run_key": f"airflow-AirflowShapesFlow-{RUN_ID}",
            "status": status,
        }


def test_a_pod_writes_its_result_where_airflow_reads_a_pods_xcom(tmp_path: Path) -> None:
    found = helpers(FLOWS / "airflow_shapes.py", tmp_path, kubernetes=True, image="img:1")
    command = found["in_pod"](found["stepwell_task"]("start", ti()))
    assert command[:2] == ["sh", "-c"]
    task_line, copy = command[2].split(" && ")
    parsed = parse_task(shlex.split(task_line))
    assert parsed["output_dir"] == "/airflow/xcom"
    assert copy == "cp /airflow/xcom/result.json /airflow/xcom/return.json"


def test_the_cli_writes_the_dag_file(tmp_path: Path) -> None:
    from click.testing import CliRunner

    flow_cls = load_flow_class(FLOWS / "airflow_shapes.py")
    target = tmp_path / "dags" / "shapes.py"
    target.parent.mkdir()
    done = CliRunner().invoke(build_cli(flow_cls), ["airflow", "create", str(target)])
    assert done.exit_code == 0, done.output
    assert "Wrote DAG AirflowShapesFlow" in done.output
    compile(target.read_text(), str(target), "exec")
    refused = CliRunner().invoke(build_cli(flow_cls), ["airflow", "create", "--kubernetes", "x.py"])
    assert refused.exit_code != 0 and "--image" in refused.output
    assert isinstance(build_cli(flow_cls).commands["airflow"], click.Group)
    (tmp_path / "a_file").write_text("")
    blocked = CliRunner().invoke(
        build_cli(flow_cls), ["airflow", "create", str(tmp_path / "a_file" / "dag.py")]
    )
    assert blocked.exit_code != 0 and "Cannot write the DAG file" in blocked.output
    assert "Traceback" not in blocked.output


def test_current_trigger_comes_from_the_asset_events_or_the_schedule(tmp_path: Path) -> None:
    from stepwell.runtime._triggers import trigger_from

    found = helpers(FLOWS / "airflow_downstream.py", tmp_path)
    upstream = {"flow_name": "AirflowShapesFlow", "pathspec": "AirflowShapesFlow/7"}
    events = {"asset": [SimpleNamespace(extra=upstream), SimpleNamespace(extra={})]}
    asset_run = SimpleNamespace(run_type=SimpleNamespace(value="asset_triggered"))
    options = found["started_by"](asset_run, events)
    bodies = tuple(options[1::2])
    assert options[::2] == ["--trigger-event"]  # the event without a stepwell run is left out
    trigger = trigger_from(None, bodies)  # what the one-task command makes of it
    run = {"name": "AirflowShapesFlow", "id": "AirflowShapesFlow/7", "type": "run"}
    assert trigger == {"events": [{**run, "timestamp": 0.0, "payload": upstream}]}
    scheduled = SimpleNamespace(run_type=SimpleNamespace(value="scheduled"),
                                logical_date="2026-12-05 02:30:00+01:00")  # fmt: skip
    (slot,) = trigger_from(None, tuple(found["started_by"](scheduled, None)[1::2]))["events"]
    assert (slot["type"], slot["id"]) == ("schedule", "2026-12-05 02:30:00+01:00")
    manual = SimpleNamespace(run_type=SimpleNamespace(value="manual"))
    assert found["started_by"](manual, {}) == []


def test_the_end_tasks_asset_event_names_the_run(tmp_path: Path) -> None:
    found = helpers(FLOWS / "airflow_downstream.py", tmp_path)

    class Outlets(dict):
        def __missing__(self, key: Any) -> Any:
            self[key] = SimpleNamespace(extra=None)
            return self[key]

    outlets = Outlets()
    found["Asset"] = lambda uri: uri  # Airflow's Asset, keyed by its URI here
    found["announce"](outlets, found["ASSET"], ({"run_id": "12", "pathspec": "F/12/start/t1"},))
    assert outlets[found["ASSET"]].extra == {
        "flow_name": "AirflowDownstreamFlow", "pathspec": "AirflowDownstreamFlow/12"
    }  # fmt: skip
