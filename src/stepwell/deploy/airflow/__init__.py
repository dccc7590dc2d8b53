"""Airflow: a flow compiled to an Airflow 3 DAG file (``python flow.py airflow create``).

Rules the modules here keep:

- :func:`compile_airflow` is a pure function: the flow's graph (decorators
  resolved), its deployment plan (``stepwell.scheduler._deploy``), its
  parameters and the stores' environment in; the DAG file's text out. Storing
  the code package and writing the file is :mod:`._create`'s, a thin layer.
- One module per concern: graph -> tasks (``_tasks``), decorators -> operator
  arguments (``_operator``), the DAG's schedule and params (``_dag``), the
  file's module level (``_source``) and its body (``_render``).
- The generated file imports only Airflow (and, for pods, the Kubernetes
  client): never stepwell, so Airflow's scheduler parses it anywhere. Every
  task runs the one-task command; command lines come from
  :func:`stepwell.deploy.task_command`.
- Nothing here imports Airflow: the DAG is text, checked by Airflow itself in
  the tests that have it (tests/deploy).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stepwell.deploy.airflow._dag import (
    asset_uri,
    dag_id_of,
    params_source,
    schedule_source,
)
from stepwell.deploy.airflow._operator import AirflowOptions
from stepwell.deploy.airflow._pysrc import lit
from stepwell.deploy.airflow._render import finish_function, step_function, wiring
from stepwell.deploy.airflow._source import (
    constants_source,
    helpers_source,
    imports_source,
    module_header,
)
from stepwell.deploy.airflow._tasks import helper_task_ids, plan_tasks
from stepwell.exceptions import ConfigError
from stepwell.graph import FlowGraph

__all__ = ["AirflowOptions", "asset_uri", "compile_airflow", "dag_id_of"]


def compile_airflow(
    graph: FlowGraph,
    plan: Any,
    parameters: Mapping[str, Any],
    *,
    env: Mapping[str, str],
    options: AirflowOptions | None = None,
    version: str = "",
) -> str:
    """The Airflow DAG file of a flow, as Python source.

    Args:
        graph: the flow's checked graph, its decorators resolved (``prepare_graph``).
        plan: its :class:`~stepwell.scheduler._deploy.DeploymentPlan` (package key,
            script, schedule, upstream flows, project, parameter defaults).
        parameters: the flow's Parameter objects by attribute name.
        env: the ``STEPWELL_*`` variables every task gets (``deployment_environment``).
        options: how tasks run (a local process by default, or pods).
        version: stepwell's version, named in the file's docstring.

    Raises:
        ConfigError: with the step's file:line, for what an Airflow DAG cannot run.
    """
    options = options or AirflowOptions()
    spec = plan.spec
    where = f"{graph.file}:{graph.line}" if graph.file else None
    tasks = plan_tasks(graph)
    helper_ids = helper_task_ids(tasks)
    dag_id = dag_id_of(plan.name)
    schedule = schedule_source(spec, where)
    outlets = [("outlets", f"[Asset({lit(asset_uri(dag_id))})]")]
    steps = [
        step_function(t, options, outlets, asset_uri(dag_id))
        if t.node.is_end
        else step_function(t, options, [])
        for t in tasks
    ]
    module = [
        module_header(plan.flow_name, spec["script"], graph.doc, version),
        imports_source(options, _needs(schedule)),
        constants_source(plan.flow_name, spec["script"], spec["code_key"], env, options)
        + f"PARAMETERS = {lit(tuple(p.name for p in parameters.values() if _passed(p)))}\n"
        + "#: This DAG's asset: its end task's event names the stepwell run that succeeded.\n"
        + f"ASSET = {lit(asset_uri(dag_id))}\n",
        helpers_source(options),
    ]
    dag = [
        _dag_open(dag_id, graph, spec, parameters, schedule, options),
        "\n".join([*steps, finish_function(helper_ids["finish"], options)]),
        wiring(tasks, helper_ids),
    ]
    head = "\n".join(p.strip("\n") + "\n" for p in module[:3])
    head += "\n\n" + "\n\n".join(p.strip("\n") + "\n" for p in module[3:])
    return head + "\n\n" + "\n".join(p.strip("\n") + "\n" for p in dag)


def _passed(param: Any) -> bool:
    """Parameters the start task gets from the DAG's params (not Configs, IncludeFiles)."""
    return getattr(param, "kind", "parameter") == "parameter"


def _needs(schedule: str) -> set[str]:
    names = {"Asset"}
    for name in ("AssetAll", "AssetOrTimeSchedule", "CronTriggerTimetable"):
        if f"{name}(" in schedule:
            names.add(name)
    return names


def _dag_open(
    dag_id: str,
    graph: FlowGraph,
    spec: Mapping[str, Any],
    parameters: Mapping[str, Any],
    schedule: str,
    options: AirflowOptions,
) -> str:
    where = f"{graph.file}:{graph.line}" if graph.file else None
    description = graph.doc.strip().splitlines()[0] if graph.doc.strip() else spec["flow_name"]
    tags = ["stepwell"]
    lines = [
        "with DAG(",
        f"    dag_id={lit(dag_id)},",
        f"    description={lit(description)},",
        "    doc_md=__doc__,",
        f"    schedule={schedule},",
        "    catchup=False,",
        f"    params={params_source(parameters, spec, where)},",
        f"    tags={lit(tags)},",
    ]
    if options.max_workers:
        lines.append(f"    max_active_tasks={options.max_workers},")
    if options.workflow_timeout:
        lines.append(f"    dagrun_timeout=timedelta(seconds={options.workflow_timeout}),")
    if options.paused:
        lines.append("    is_paused_upon_creation=True,")
    lines.append(") as dag:")
    return "\n".join(lines) + "\n"


def write_dag_file(path: str | Path, source: str) -> Path:
    """Write the DAG file atomically (Airflow may be parsing the folder)."""
    target = Path(path)
    partial = target.with_name(f".{target.name}.partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(source)
        partial.replace(target)
    except OSError as exc:
        raise ConfigError(
            f"Cannot write the DAG file {str(target)!r}: {exc.strerror or exc}. "
            "Give a path in a folder you can write to (Airflow's dags folder)."
        ) from None
    return target
