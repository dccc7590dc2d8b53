"""The Airflow compiler: each flow shape and decorator as the DAG file's tasks and arguments.

The DAG file is Python source; these tests read it with ``ast`` (Airflow itself is not
installed here: tests/deploy imports and runs the files with a real Airflow).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from stepwell.config import load_settings
from stepwell.deploy.airflow import AirflowOptions
from stepwell.deploy.airflow._create import create_dag
from stepwell.exceptions import ConfigError
from stepwell.flow import load_flow_class

TESTS = Path(__file__).parents[2]
SHAPES = TESTS / "flows" / "shapes"
FLOWS = TESTS / "deploy" / "flows"
#: Shapes an Airflow DAG cannot have (each refused with the step's file:line).
UNSUPPORTED = {"nested_foreach_flow", "parallel_flow", "recursion_flow", "loop_back_flow"}
SUPPORTED = sorted(p for p in SHAPES.glob("*_flow.py") if p.stem not in UNSUPPORTED)


def compile_flow(path: Path, tmp_path: Path, branch: str | None = None, **options: object) -> str:
    """``python FLOW airflow create`` in this process: the DAG file's text."""
    flow_cls = load_flow_class(path)
    created = create_dag(
        flow_cls,
        load_settings(),
        flow_file=str(path),
        dag_file=tmp_path / "dag.py",
        options=AirflowOptions(**options),  # type: ignore[arg-type]
        branch=branch,
    )
    assert (tmp_path / "dag.py").read_text() == created.source
    return created.source


def step_kwargs(source: str, step: str) -> dict[str, str]:
    """The keyword arguments of the decorator on ``step_<step>``, as source text."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name == f"step_{step}":
            call = next(d for d in node.decorator_list if isinstance(d, ast.Call))
            return {k.arg: ast.unparse(k.value) for k in call.keywords if k.arg}
    raise AssertionError(f"no function step_{step} in the DAG file")


def returned(source: str, function: str) -> list[str]:
    """The items of the list a module-level function returns, as source text."""
    node = next(
        n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == function
    )
    value = node.body[-1].value  # type: ignore[attr-defined]
    assert isinstance(value, ast.List)
    return [ast.unparse(item) for item in value.elts]


def dag_kwargs(source: str) -> dict[str, str]:
    with_node = next(n for n in ast.parse(source).body if isinstance(n, ast.With))
    call = with_node.items[0].context_expr
    assert isinstance(call, ast.Call) and ast.unparse(call.func) == "DAG"
    return {k.arg: ast.unparse(k.value) for k in call.keywords if k.arg}


def wiring(source: str) -> dict[str, str]:
    """``name = expression`` statements of the DAG's body, as source text."""
    with_node = next(n for n in ast.parse(source).body if isinstance(n, ast.With))
    return {
        ast.unparse(n.targets[0]): ast.unparse(n.value)
        for n in with_node.body
        if isinstance(n, ast.Assign)
    }


@pytest.mark.parametrize("flow_file", SUPPORTED, ids=lambda p: p.stem)
def test_every_supported_shape_compiles_to_readable_python_with_a_task_per_step(
    flow_file: Path, tmp_path: Path
) -> None:
    source = compile_flow(flow_file, tmp_path)
    compile(source, "dag.py", "exec")
    assert max(len(line) for line in source.splitlines()) <= 100
    graph_steps = {
        n.name for n in ast.walk(ast.parse(flow_file.read_text())) if isinstance(n, ast.FunctionDef)
    }
    steps = wiring(source)
    for name in graph_steps - {"__init__"}:
        if f"step_{name}" in source:
            assert steps[f"out_{name}"].startswith(f"step_{name}")
    assert "] >> finish_run()" in source


def test_a_foreach_maps_the_next_step_over_its_splits_and_the_join_takes_every_task(
    tmp_path: Path,
) -> None:
    steps = wiring(compile_flow(SHAPES / "foreach_flow.py", tmp_path))
    assert steps["splits_start"] == "splits.override(task_id='start_splits')(out_start)"
    assert steps["out_square"] == "step_square.expand(split=splits_start)"
    assert steps["out_join"] == "step_join(out_square)"
    source = compile_flow(SHAPES / "foreach_flow.py", tmp_path)
    assert 'return shell(stepwell_task("join", ti, *each_input(results), *started))' in source
    assert 'return shell(stepwell_task("square", ti, *split_input(split), *started))' in source
    assert "retries" not in step_kwargs(source, "square")  # no @retry: Airflow's default 0


def test_a_branch_inside_a_foreach_is_mapped_split_by_split(tmp_path: Path) -> None:
    steps = wiring(compile_flow(SHAPES / "branch_in_foreach_flow.py", tmp_path))
    assert steps["out_body"] == "step_body.expand(split=splits_start)"
    assert steps["out_plus_one"] == "step_plus_one.expand(in_body=out_body)"
    assert steps["out_times_two"] == "step_times_two.expand(in_body=out_body)"
    assert steps["out_join_branch"] == (
        "step_join_branch.expand(parents=out_plus_one.zip(out_times_two))"
    )
    assert steps["out_join_foreach"] == "step_join_foreach(out_join_branch)"


def test_a_switch_branches_to_the_chosen_step_and_the_steps_after_it_run_once_one_did(
    tmp_path: Path,
) -> None:
    source = compile_flow(SHAPES / "switch_flow.py", tmp_path)
    steps = wiring(source)
    assert steps["switch_start"] == "chosen.override(task_id='start_switch')(out_start)"
    assert "switch_start >> [out_fast, out_slow]" in source
    assert steps["out_finish"] == "step_finish(in_fast=out_fast, in_slow=out_slow)"
    assert step_kwargs(source, "finish")["trigger_rule"] == "'none_failed_min_one_success'"
    assert "trigger_rule" not in step_kwargs(source, "fast")


def test_a_static_branch_joins_every_branch(tmp_path: Path) -> None:
    source = compile_flow(SHAPES / "branch_flow.py", tmp_path)
    join = next(v for k, v in wiring(source).items() if k.startswith("out_join"))
    assert join.count("in_") == 2 and "expand" not in join


def test_retries_delays_and_timeouts_are_the_steps_decorators(tmp_path: Path) -> None:
    source = compile_flow(FLOWS / "airflow_decorated.py", tmp_path)
    start, train = step_kwargs(source, "start"), step_kwargs(source, "train")
    # @retry with no delay written: Metaflow's 2 minutes (deployed runs wait)
    assert (start["retries"], start["retry_delay"]) == ("3", "timedelta(seconds=120)")
    assert (train["retries"], train["retry_delay"]) == ("1", "timedelta(seconds=30)")
    assert train["execution_timeout"] == "timedelta(seconds=300)"
    assert "execution_timeout" not in start
    assert train["env"] == "{**ENV, 'MODE': 'fast'}"
    assert (train["append_env"], train["skip_on_exit_code"]) == ("True", "None")
    assert step_kwargs(source, "end")["retry_delay"] == "timedelta(seconds=60)"


def test_schedule_is_a_cron_trigger_timetable_in_its_timezone(tmp_path: Path) -> None:
    flow = tmp_path / "nightly.py"
    flow.write_text(_NIGHTLY.format(schedule="@schedule(daily=True)", default="'x'"))
    source = compile_flow(flow, tmp_path)
    assert dag_kwargs(source)["schedule"] == "CronTriggerTimetable('0 0 * * *', timezone='UTC')"
    assert dag_kwargs(compile_flow(SHAPES / "linear_flow.py", tmp_path))["schedule"] == "None"


def test_a_scheduled_flow_cannot_have_a_required_parameter_without_default(
    tmp_path: Path,
) -> None:
    flow = tmp_path / "nightly.py"
    flow.write_text(_NIGHTLY.format(schedule="@schedule(hourly=True)", default="None"))
    with pytest.raises(ConfigError, match="parameter 'day' is required and has no default") as e:
        compile_flow(flow, tmp_path)
    assert e.value.location == f"{flow}:4"  # the flow class, where @schedule is


_NIGHTLY = """from stepwell import FlowSpec, Parameter, schedule, step


{schedule}
class NightlyFlow(FlowSpec):
    day = Parameter("day", required=True, default={default})

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_parameters_are_dag_params_with_types_defaults_and_help(tmp_path: Path) -> None:
    params = dag_kwargs(compile_flow(FLOWS / "airflow_decorated.py", tmp_path))["params"]
    found = {k.value: ast.unparse(v) for k, v in zip(*_dict(params), strict=True)}  # type: ignore[attr-defined]
    assert found == {
        "alpha": "Param(0.5, type='number', description='learning rate')",
        "rounds": "Param(3, type='integer')",
        "name": "Param(type='string', description='who runs it')",  # required: no default
        "verbose": "Param(False, type='boolean')",
        "spec": "Param({'a': [1, 2]})",
        "note": "Param(None, type=['string', 'null'], description='optional text')",
    }


def _dict(source: str) -> tuple[list[ast.expr], list[ast.expr]]:
    node = ast.parse(source, mode="eval").body
    assert isinstance(node, ast.Dict)
    return node.keys, node.values  # type: ignore[return-value]


def test_the_end_task_updates_the_flows_asset_and_a_downstream_flow_schedules_on_it(
    tmp_path: Path,
) -> None:
    upstream = compile_flow(FLOWS / "airflow_shapes.py", tmp_path)
    assert (
        step_kwargs(upstream, "end")["outlets"] == "[Asset('stepwell://flows/AirflowShapesFlow')]"
    )
    downstream = compile_flow(FLOWS / "airflow_downstream.py", tmp_path)
    # @project: a DAG per branch, and the upstream flow of the same branch
    assert dag_kwargs(downstream)["dag_id"] == "'shapes.user.tester.AirflowDownstreamFlow'"
    assert dag_kwargs(downstream)["schedule"] == (
        "AssetOrTimeSchedule(timetable=CronTriggerTimetable('30 2 * * *', "
        "timezone='Europe/Paris'), assets=Asset('stepwell://flows/shapes.user.tester."
        "AirflowShapesFlow'))"
    )
    assert max(len(line) for line in downstream.splitlines()) <= 100


@pytest.mark.parametrize("stem", sorted(UNSUPPORTED))
def test_what_airflow_cannot_run_is_refused_with_the_steps_location(
    stem: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as caught:
        compile_flow(SHAPES / f"{stem}.py", tmp_path)
    assert "Cannot compile the flow to an Airflow DAG" in caught.value.message
    assert caught.value.location and caught.value.location.startswith(str(SHAPES / stem))
    assert not (tmp_path / "dag.py").exists()


def test_kubernetes_tasks_are_pods_of_the_image_with_the_steps_resources(tmp_path: Path) -> None:
    source = compile_flow(
        FLOWS / "airflow_decorated.py", tmp_path, kubernetes=True, image="reg/flows:1",
        namespace="ml",
    )  # fmt: skip
    compile(source, "dag.py", "exec")
    assert "from kubernetes.client import models as k8s" in source
    assert 'IMAGE = "reg/flows:1"' in source
    train = step_kwargs(source, "train")
    assert (train["image"], train["namespace"], train["name"]) == ("IMAGE", "'ml'", "'train'")
    assert train["container_resources"] == (
        "k8s.V1ResourceRequirements(requests={'cpu': '2', 'memory': '8000Mi'}, "
        "limits={'nvidia.com/gpu': '1'})"
    )
    end = step_kwargs(source, "end")  # @kubernetes names its own image
    assert end["image"] == "'registry.example/special:1'"
    assert end["container_resources"] == (
        "k8s.V1ResourceRequirements(requests={'cpu': '4', 'memory': '2048Mi'})"
    )
    assert "@task.kubernetes_cmd(" in source and "@task.bash(" not in source
    base = returned(source, "stepwell_task")
    assert base[base.index("'--output-dir'") + 1] == "'/airflow/xcom'"


def test_kubernetes_needs_an_image(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--image"):
        compile_flow(SHAPES / "linear_flow.py", tmp_path, kubernetes=True)


def test_dag_options_max_workers_timeout_paused(tmp_path: Path) -> None:
    found = dag_kwargs(
        compile_flow(
            SHAPES / "linear_flow.py", tmp_path, max_workers=4, workflow_timeout=3600, paused=True
        )
    )
    assert found["max_active_tasks"] == "4"
    assert found["dagrun_timeout"] == "timedelta(seconds=3600)"
    assert found["is_paused_upon_creation"] == "True"
    assert found["catchup"] == "False"


def test_compiling_is_deterministic(tmp_path: Path) -> None:
    first = compile_flow(FLOWS / "airflow_shapes.py", tmp_path)
    assert compile_flow(FLOWS / "airflow_shapes.py", tmp_path) == first


def test_every_task_runs_on_the_deployed_project_branch(tmp_path: Path) -> None:
    user = compile_flow(FLOWS / "airflow_downstream.py", tmp_path)
    assert returned(user, "stepwell_task")[:2] == ["'stepwell'", "'task'"]
    env = ast.literal_eval(wiring_module(user)["ENV"])
    assert env["METAFLOW_OWNER"] == "tester"  # user.tester, whoever the Airflow worker is
    test = compile_flow(FLOWS / "airflow_downstream.py", tmp_path, branch="feature")
    assert returned(test, "stepwell_task")[:4] == [
        "'stepwell'",
        "'--branch'",
        "'feature'",
        "'task'",
    ]
    assert dag_kwargs(test)["dag_id"] == "'shapes.test.feature.AirflowDownstreamFlow'"
    assert "METAFLOW_OWNER" not in ast.literal_eval(wiring_module(test)["ENV"])


def test_configs_are_read_once_and_given_to_every_task(tmp_path: Path) -> None:
    source = compile_flow(FLOWS / "airflow_decorated.py", tmp_path)
    base = returned(source, "stepwell_task")
    at = base.index("'--config-value'")
    assert base[at + 1 : at + 3] == ["'settings'", "'{\"end_retries\": 4}'"]
    assert step_kwargs(source, "end")["retries"] == "4"  # @retry(times=settings.end_retries)
    assert "settings" not in ast.literal_eval(wiring_module(source)["PARAMETERS"])


def wiring_module(source: str) -> dict[str, str]:
    """Module-level ``NAME = value`` statements, as source text."""
    return {
        ast.unparse(n.targets[0]): ast.unparse(n.value)
        for n in ast.parse(source).body
        if isinstance(n, ast.Assign)
    }
