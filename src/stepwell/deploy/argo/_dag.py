"""Scopes -> DAG templates: one task per step or nested scope, wired by the tasks' outputs.

Each task passes its successors what the one-task command wrote to its
output directory: ``pathspec`` (every step), ``splits`` (a foreach: the
``withParam`` list of its body) and ``chosen`` (a switch: compared in the
``when`` of each case). A join gets all its inputs: each branch's pathspec,
or, closing a foreach, the pathspec of the task that made the split
(``--inputs-of-split``: the command finds the body's tasks in the run, so the
argument does not grow with the width). A step where switch
cases meet again takes the pathspec of whichever case ran, picked by an
expression on the switches' choices (:mod:`._conditions`).

Every task ``depends`` on ``<parent>.Succeeded``; Argo evaluates that once
all the named tasks have finished, so a case that was skipped never starts
the step after it.
"""

from __future__ import annotations

from typing import Any

from stepwell.deploy.argo import _conditions as cond
from stepwell.deploy.argo._names import check_unique, step_name
from stepwell.deploy.argo._scopes import Scope, find_scopes, forward_parents
from stepwell.graph import FlowGraph

#: The inputs of a task re-entered by a loop: only the previous iteration's switch.
AGAIN = ("input",)

Containers = dict[str, tuple[str, tuple[str, ...]]]  # template name -> (step, inputs)


def input_names(graph: FlowGraph, step: str) -> tuple[str, ...]:
    """The input parameters of ``step``'s container template, by the step's place."""
    node, parents = graph[step], forward_parents(graph, step)
    if node.is_start:
        return ()
    if node.is_join:
        if node.closes and graph[node.closes].transition == "foreach":
            return ("inputs-of-split",)
        return tuple(f"input-{i}" for i in range(len(parents)))
    if len(parents) == 1 and graph[parents[0]].transition == "foreach":
        return ("input", "split-index")
    return ("input",)


def container_name(graph: FlowGraph, step: str, inputs: tuple[str, ...]) -> str:
    base = step_name(step)
    return base if inputs == input_names(graph, step) else f"{base}-again"


def dag_name(scope: Scope, again: bool = False) -> str:
    if scope.kind == "main":
        return "main"
    name = f"{scope.kind}-{step_name(scope.entry)}"
    return f"{name}-again" if again else name


def dag_templates(graph: FlowGraph) -> tuple[list[dict[str, Any]], Containers]:
    """Every DAG template of the flow (``main`` first) and the container templates they call."""
    containers: Containers = {}
    templates = []
    for scope in find_scopes(graph).walk():
        for again, inputs in _variants(graph, scope):
            templates.append(_ScopeDag(graph, scope, inputs, again, containers).template())
    return templates, containers


def _variants(graph: FlowGraph, scope: Scope) -> list[tuple[bool, tuple[str, ...]]]:
    """A scope's templates: a loop re-entered with other inputs than its first entry has two."""
    if scope.kind == "main":
        return [(False, ())]
    first = input_names(graph, scope.entry)
    return [(False, first)] + ([(True, AGAIN)] if scope.kind == "loop" and first != AGAIN else [])


class _ScopeDag:
    """Builds the DAG template of one scope (one variant of it)."""

    def __init__(
        self,
        graph: FlowGraph,
        scope: Scope,
        inputs: tuple[str, ...],
        again: bool,
        containers: Containers,
    ) -> None:
        self.graph, self.scope, self.inputs, self.again = graph, scope, inputs, again
        self.containers = containers
        self.children = {c.entry: c for c in scope.children}
        self._conditions: dict[str, cond.Condition] = {}

    def template(self) -> dict[str, Any]:
        order = {n.name: i for i, n in enumerate(self.graph.sorted_nodes())}
        units = sorted([*self.scope.members, *self.children], key=order.__getitem__)
        tasks = [self._task(unit) for unit in units]
        if self.scope.kind == "loop":
            tasks.append(self._recursion())
        name = dag_name(self.scope, self.again)
        check_unique(((t["name"], f"the task of {t['template']}") for t in tasks), name)
        template: dict[str, Any] = {"name": name, "dag": {"tasks": tasks}}
        if self.inputs:
            template["inputs"] = {"parameters": [{"name": n} for n in self.inputs]}
        outputs = self._outputs()
        if outputs:
            template["outputs"] = {"parameters": outputs}
        return template

    # -- references to the tasks of this scope ------------------------------------------------

    def ref(self, step: str) -> str:
        """The task standing for ``step`` here: its own, or the nested scope's holding it."""
        child = self.scope.child_holding(step)
        return step_name(child.entry if child is not None else step)

    def unit_of(self, step: str) -> str:
        child = self.scope.child_holding(step)
        return child.entry if child is not None else step

    def output(self, step: str, name: str) -> str:
        return f"{{{{tasks.{self.ref(step)}.outputs.parameters.{name}}}}}"

    def choice(self, parent: str, step: str) -> cond.Choice | None:
        return (self.ref(parent), step) if self.graph[parent].transition == "switch" else None

    def condition(self, unit: str) -> cond.Condition:
        """When the task of ``unit`` runs, in switch choices of this scope."""
        if unit == self.scope.entry:
            return cond.ALWAYS
        if unit not in self._conditions:
            parents = forward_parents(self.graph, unit)
            if self.graph[unit].is_join:
                parents = parents[:1]  # every branch of a split runs
            self._conditions[unit] = cond.either([self.edge(p, unit) for p in parents])
        return self._conditions[unit]

    def edge(self, parent: str, step: str) -> cond.Condition:
        """When the edge ``parent -> step`` is taken."""
        return cond.extend(self.condition(self.unit_of(parent)), self.choice(parent, step))

    # -- tasks ---------------------------------------------------------------------------------

    def _task(self, unit: str) -> dict[str, Any]:
        child = self.children.get(unit)
        entry = unit == self.scope.entry
        inputs = self.inputs if entry else input_names(self.graph, unit)
        if child is not None:
            template = dag_name(child)
        else:
            template = container_name(self.graph, unit, inputs)
            self.containers[template] = (unit, inputs)
        task: dict[str, Any] = {"name": step_name(unit), "template": template}
        if entry:
            values = {n: f"{{{{inputs.parameters.{n}}}}}" for n in inputs}
        else:
            values = self._wire(unit, inputs, task)
        if values:
            task["arguments"] = {"parameters": [{"name": k, "value": v} for k, v in values.items()]}
        return task

    def _wire(self, unit: str, inputs: tuple[str, ...], task: dict[str, Any]) -> dict[str, str]:
        """The arguments of ``unit``'s task; sets its depends, when and withParam."""
        parents = list(dict.fromkeys(forward_parents(self.graph, unit)))
        if inputs == ("inputs-of-split",):
            (last,) = parents
            task["depends"] = f"{self.ref(last)}.Succeeded"
            return {"inputs-of-split": self.output(str(self.graph[unit].closes), "pathspec")}
        if self.graph[unit].is_join:
            task["depends"] = " && ".join(f"{self.ref(p)}.Succeeded" for p in parents)
            return {
                name: self.output(p, "pathspec") for name, p in zip(inputs, parents, strict=True)
            }
        task["depends"] = " || ".join(f"{self.ref(p)}.Succeeded" for p in parents)
        if inputs == ("input", "split-index"):
            (split,) = parents
            task["withParam"] = self.output(split, "splits")
            return {"input": self.output(split, "pathspec"), "split-index": "{{item}}"}
        if len(parents) == 1:
            when = cond.when_clause(cond.extend(cond.ALWAYS, self.choice(parents[0], unit)))
        else:
            switched = any(self.choice(p, unit) for p in parents)
            when = cond.when_clause(self.condition(unit)) if switched else None
        if when:
            task["when"] = when
        return {"input": self._pathspec_of_any(parents, unit)}

    def _pathspec_of_any(self, parents: list[str], unit: str) -> str:
        if len(parents) == 1:
            return self.output(parents[0], "pathspec")
        branches = [
            (self.edge(p, unit), cond.output_expr(self.ref(p), "pathspec")) for p in parents
        ]
        return "{{=" + cond.pick(branches) + "}}"

    # -- loops ---------------------------------------------------------------------------------

    def _recursion(self) -> dict[str, Any]:
        """The task that runs the loop again when its switch chooses the loop's first step."""
        switch, target = str(self.scope.exit), self.scope.entry
        again = len(_variants(self.graph, self.scope)) > 1
        value = self.output(switch, "pathspec")
        return {
            "name": f"{step_name(target)}-again",
            "template": dag_name(self.scope, again),
            "depends": f"{self.ref(switch)}.Succeeded",
            "when": cond.when_clause([((self.ref(switch), target),)]),
            "arguments": {"parameters": [{"name": "input", "value": value}]},
        }

    def _outputs(self) -> list[dict[str, Any]]:
        if self.scope.kind == "foreach":
            last = self.output(str(self.scope.exit), "pathspec")
            return [{"name": "pathspec", "valueFrom": {"parameter": last}}]
        if self.scope.kind != "loop":
            return []
        switch = self.ref(str(self.scope.exit))
        again = f"{step_name(self.scope.entry)}-again"
        looped: cond.Condition = [((switch, self.scope.entry),)]
        outputs = []
        for name in ("pathspec", "chosen"):
            branches = [
                (looped, cond.output_expr(again, name)),
                (cond.ALWAYS, cond.output_expr(switch, name)),
            ]
            outputs.append({"name": name, "valueFrom": {"expression": cond.pick(branches)}})
        return outputs
