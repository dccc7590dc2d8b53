"""The DAG's body: one decorated function per step, then the wiring of their results.

A step's function is named ``step_<name>`` (task id ``<name>``) and returns its
command: a shell line for ``@task.bash``, an argv for ``@task.kubernetes_cmd``.
Its arguments are the results of the tasks before it, which is how Airflow
passes XComs between TaskFlow tasks; the wiring below the functions
(``out_<step> = step_<step>(...)``, ``.expand(...)`` for a foreach body)
is the DAG's shape, readable top to bottom.
"""

from __future__ import annotations

from pathlib import Path

from stepwell.deploy.airflow._operator import (
    AirflowOptions,
    Kwargs,
    bash_kwargs,
    pod_kwargs,
    retry_kwargs,
    timeout_kwargs,
)
from stepwell.deploy.airflow._pysrc import docstring, lit, wrapped
from stepwell.deploy.airflow._source import task_command_tail
from stepwell.deploy.airflow._tasks import StepTask

_INDENT = "    "


def step_function(
    task: StepTask, options: AirflowOptions, extra: Kwargs, asset: str | None = None
) -> str:
    """The decorated function of one step (``extra``: DAG-level kwargs, e.g. the end's outlets;
    ``asset``: the end's asset, whose event names the run for downstream DAGs)."""
    node = task.node
    kwargs = [("task_id", lit(node.name))]
    if options.kubernetes:
        kwargs += pod_kwargs(node, options)
    else:
        kwargs += bash_kwargs(node)
    kwargs += retry_kwargs(node) + timeout_kwargs(node)
    if task.trigger_rule:
        kwargs.append(("trigger_rule", lit(task.trigger_rule)))
    kwargs += extra
    decorator = "task.kubernetes_cmd" if options.kubernetes else "task.bash"
    returns, wrap = ("list[str]", "in_pod") if options.kubernetes else ("str", "shell")
    call = f"stepwell_task({lit(node.name)}, ti{_options(task, options)}, *started)"
    context = ["dag_run: Any = None", "triggering_asset_events: Any = None"]
    if asset is not None:
        context.append("outlet_events: Any = None")
    params = [*_signature(task).split(", "), *context]
    lines = [
        f"@{decorator}(",
        *(f"{_INDENT}{key}={value}," for key, value in kwargs),
        ")",
        wrapped(f"def step_{node.name}(", params, f") -> {returns}:", 0, outer=4),
    ]
    body = [docstring(_describe(task), 8)]
    if asset is not None:  # the event downstream DAGs start on names this stepwell run
        body.append(f"{_INDENT * 2}announce(outlet_events, ASSET, {_results(task)})")
    body.append(f"{_INDENT * 2}started = started_by(dag_run, triggering_asset_events)")
    body.append(f"{_INDENT * 2}return {wrap}({call})")
    return _indented(lines) + "\n".join(body) + "\n"


def finish_function(task_id: str, options: AirflowOptions) -> str:
    """The teardown task: after every task, done or not, end the stepwell run."""
    if options.kubernetes:
        decorator = "task.kubernetes_cmd"
        kwargs = [("name", lit("finish-run")), ("image", "IMAGE"),
                  ("namespace", lit(options.namespace)), ("env_vars", "ENV"),
                  ("do_xcom_push", "False")]  # fmt: skip
        returns, body = "list[str]", "finish_command(ti)"
    else:
        decorator = "task.bash"
        kwargs = [("env", "ENV"), ("append_env", "True"), ("do_xcom_push", "False")]
        returns, body = "str", "shell(finish_command(ti))"
    lines = [
        "@teardown",
        f"@{decorator}(task_id={lit(task_id)}, {', '.join(f'{k}={v}' for k, v in kwargs)})",
        f"def finish_run(ti: Any = None) -> {returns}:",
        f'{_INDENT}"""After every task, done or not: a run a failed task left going fails."""',
        f"{_INDENT}return {body}",
    ]
    return _indented(lines)


def _signature(task: StepTask) -> str:
    if task.inputs == "none":
        args = ["params: Any = None"]
    elif task.inputs == "split":
        args = ["split: dict"]
    elif task.inputs == "each":
        args = ["results: list"]
    elif task.mapped and len(task.parents) > 1:
        args = ["parents: tuple"]
    else:
        optional = " | None" if len(task.parents) > 1 else ""
        args = [f"in_{p}: dict{optional}" for p in task.parents]
    return ", ".join([*args, "ti: Any = None"])


def _options(task: StepTask, options: AirflowOptions) -> str:
    """The step's input options for ``stepwell_task`` (kept short: the file is read)."""
    if task.inputs == "none":
        tags = "".join(f", {lit(arg)}" for arg in task_command_tail(tags=options.tags))
        return f", *parameters(params){tags}"
    if task.inputs in ("split", "each"):
        return f", *{task.inputs}_input({_results(task)})"
    if task.mapped and len(task.parents) > 1:
        return ", *inputs(*parents)"
    return f", *inputs({', '.join(f'in_{p}' for p in task.parents)})"


def _results(task: StepTask) -> str:
    """The step's input results as one expression (any of them names the run)."""
    if task.inputs in ("none", "split", "each"):
        return {"none": "None", "split": "split", "each": "results"}[task.inputs]
    if task.mapped and len(task.parents) > 1:
        return "parents"
    return f"({', '.join(f'in_{p}' for p in task.parents)},)"


def _describe(task: StepTask) -> str:
    node = task.node
    where = f"{Path(node.file).name}:{node.line}" if node.file else node.name
    first = task.parents[0] if task.parents else ""
    role = {
        "none": "starts the stepwell run",
        "split": f"one task per split of {first}'s foreach",
        "each": f"joins every task of {first}",
        "ran": "one task per split, as the step before it" if task.mapped else "",
    }[task.inputs]
    doc = node.doc.strip().splitlines()[0] if node.doc.strip() else ""
    text = f"Step {node.name} ({where})" + (f": {role}" if role else "") + "."
    return f"{text} {doc}".strip()


def wiring(tasks: list[StepTask], helper_ids: dict[str, str]) -> str:
    """``out_<step> = step_<step>(...)`` in dependency order, the switches, the teardown."""
    lines = []
    for task in tasks:
        lines.append(f"out_{task.step} = {_call(task)}")
        if task.is_foreach:
            task_id = helper_ids[f"splits:{task.step}"]
            lines.append(
                f"splits_{task.step} = splits.override(task_id={lit(task_id)})(out_{task.step})"
            )
        if task.is_switch:
            task_id = helper_ids[f"switch:{task.step}"]
            lines.append(
                f"switch_{task.step} = chosen.override(task_id={lit(task_id)})(out_{task.step})"
            )
    for task in tasks:
        if task.is_switch:
            cases = ", ".join(f"out_{s}" for s in task.node.out_steps)
            lines.append(f"switch_{task.step} >> [{cases}]")
    every = [f"out_{t.step}" for t in tasks]
    every += [f"splits_{t.step}" for t in tasks if t.is_foreach]
    every += [f"switch_{t.step}" for t in tasks if t.is_switch]
    lines.append(wrapped("[", every, "] >> finish_run()", 0, outer=4))
    return _indented(lines)


def _call(task: StepTask) -> str:
    fn = f"step_{task.step}"
    if task.inputs == "none":
        return f"{fn}()"
    if task.inputs == "split":
        return f"{fn}.expand(split=splits_{task.parents[0]})"
    if task.inputs == "each":
        return f"{fn}(out_{task.parents[0]})"
    if task.mapped and len(task.parents) > 1:
        first, *rest = (f"out_{p}" for p in task.parents)
        return f"{fn}.expand(parents={first}.zip({', '.join(rest)}))"
    args = ", ".join(f"in_{p}=out_{p}" for p in task.parents)
    return f"{fn}.expand({args})" if task.mapped else f"{fn}({args})"


def _indented(lines: list[str]) -> str:
    """Each line (a line may hold several) one level in: the body of ``with DAG(...)``."""
    text = "\n".join(lines)
    return "\n".join(_INDENT + line if line else "" for line in text.splitlines()) + "\n"
