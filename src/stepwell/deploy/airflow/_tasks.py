"""Graph -> tasks: each step as an Airflow task, and how it gets its inputs.

Airflow knows a step's inputs only as the XComs of the tasks before it (each
task's XCom is the one-task command's result). A step is one of:

- ``start``: no input; it creates the run.
- a step in a foreach body (``mapped``): one task per split, mapped with
  ``.expand()`` over the foreach's splits (the first step of the body) or over
  the results of the body step before it (``.zip()`` of them for a join inside
  the body), so split *i* of every body step is task *i*.
- a foreach's join: every mapped task of the step before it (``--inputs-json``).
- any other step: ``--input`` for each step before it that ran. A step with
  several of them (a join, or where a switch's branches meet again) runs when
  none failed and at least one succeeded: after a switch, the branch not taken
  was skipped.

What Airflow cannot express is refused here, with the step's file:line: a
foreach inside a foreach, a switch inside a foreach, ``@parallel`` and
recursion (a switch back to an earlier step: an Airflow DAG has no cycles).
"""

from __future__ import annotations

from dataclasses import dataclass

from stepwell.exceptions import ConfigError
from stepwell.graph import FlowGraph, StepNode

#: The trigger rule of a task with several parent steps (Airflow's name).
SOME_RAN = "none_failed_min_one_success"


@dataclass(frozen=True)
class StepTask:
    """One step as a task of the DAG.

    ``inputs`` says how its input tasks reach it: ``"none"`` (start), ``"split"``
    (the first step of a foreach body: one split), ``"each"`` (a foreach's join:
    every mapped task before it) or ``"ran"`` (each parent that ran).
    """

    node: StepNode
    inputs: str
    parents: tuple[str, ...]
    mapped: bool
    trigger_rule: str | None

    @property
    def step(self) -> str:
        return self.node.name

    @property
    def is_foreach(self) -> bool:
        return self.node.transition == "foreach"

    @property
    def is_switch(self) -> bool:
        return self.node.transition == "switch"


def plan_tasks(graph: FlowGraph) -> list[StepTask]:
    """The DAG's step tasks in dependency order; a ConfigError for what Airflow cannot run."""
    if graph.back_edges:
        src, dst = sorted(graph.back_edges)[0]
        _refuse(
            graph[src],
            f"step {src!r} can go back to {dst!r} (recursion), and an Airflow DAG has no "
            "cycles. Deploy it with `python flow.py deploy` (the local scheduler), or "
            "unroll the loop.",
        )
    return [_task(graph, node) for node in graph.sorted_nodes()]


def _task(graph: FlowGraph, node: StepNode) -> StepTask:
    _check_supported(graph, node)
    parents = tuple(node.in_steps)
    if node.is_start:
        inputs = "none"
    elif any(graph[p].transition == "foreach" for p in parents):
        inputs = "split"
    elif node.closes is not None and graph[node.closes].transition == "foreach":
        inputs = "each"
    else:
        inputs = "ran"
    trigger_rule = SOME_RAN if len(parents) > 1 else None
    return StepTask(node, inputs, parents, node.in_foreach, trigger_rule)


def _check_supported(graph: FlowGraph, node: StepNode) -> None:
    if node.transition == "parallel" or node.is_parallel_step:
        _refuse(
            node,
            f"step {node.name!r} uses num_parallel / @parallel (gang-scheduled tasks), which "
            "the Airflow DAG cannot run. Use a foreach, or run the flow locally or on Ray.",
        )
    if node.in_foreach and node.transition == "foreach":
        outer = next(s for s in node.split_parents if graph[s].transition == "foreach")
        _refuse(
            node,
            f"step {node.name!r} opens a foreach inside the foreach of {outer!r}; Airflow's "
            "dynamic task mapping has one level. Make the inner loop a plain Python loop, "
            "or move it after the join of the outer foreach.",
        )
    if node.in_foreach and node.transition == "switch":
        _refuse(
            node,
            f"step {node.name!r} is a switch inside a foreach; Airflow cannot branch one "
            "mapped task at a time. Compute the choice in the step, or switch after the join.",
        )


def _refuse(node: StepNode, message: str) -> None:
    where = f"{node.file}:{node.line}" if node.file else None
    raise ConfigError(f"Cannot compile the flow to an Airflow DAG: {message}", location=where)


def helper_task_ids(tasks: list[StepTask]) -> dict[str, str]:
    """Task ids of the helper tasks, none equal to a step's: ``KIND:STEP`` -> id.

    ``splits:STEP`` lists a foreach step's splits; ``switch:STEP`` follows a
    switch's choice; ``finish`` ends the stepwell run after every task.
    """
    taken = {t.step for t in tasks}
    wanted = {f"splits:{t.step}": f"{t.step}_splits" for t in tasks if t.is_foreach}
    wanted |= {f"switch:{t.step}": f"{t.step}_switch" for t in tasks if t.is_switch}
    wanted["finish"] = "finish_run"
    found = {}
    for key, task_id in wanted.items():
        while task_id in taken:
            task_id += "_"
        taken.add(task_id)
        found[key] = task_id
    return found
