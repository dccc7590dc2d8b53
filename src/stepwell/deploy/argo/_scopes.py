"""The flow's graph cut into scopes: the DAG templates of the workflow, and what each holds.

Argo runs a DAG template's tasks once per call, so whatever runs a number of
times only known at run time gets a template of its own, called from a task
of the enclosing one:

- a **foreach body** (the steps between a foreach and its join) is a DAG
  template called once per split (``withParam``). A body of a single step
  needs no template: that step's own task fans out.
- a **loop** (the steps from a switch's back-edge target to the switch) is a
  DAG template that calls itself when the switch chooses to loop again.

Everything else (branches, joins, switch cases) is a task of the enclosing
template. Scopes nest: a loop inside a foreach body is a child of the body's
scope. :func:`find_scopes` returns the root (the whole flow).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stepwell.exceptions import ConfigError
from stepwell.graph import FlowGraph


@dataclass
class Scope:
    """A DAG template: its steps, where it starts and ends, and the scopes inside it.

    ``kind`` is "main", "foreach" or "loop"; ``entry`` its first step;
    ``exit`` the step whose task stands for the scope in its parent (a body's
    last step, a loop's switch); ``split`` the foreach step of a body.
    """

    kind: str
    entry: str
    nodes: frozenset[str]
    exit: str | None = None
    split: str | None = None
    children: list[Scope] = field(default_factory=list)
    members: list[str] = field(default_factory=list)

    def child_holding(self, step: str) -> Scope | None:
        return next((c for c in self.children if step in c.nodes), None)

    def walk(self) -> list[Scope]:
        """This scope and every scope inside it, outermost first."""
        return [self, *(s for c in self.children for s in c.walk())]


def forward_parents(graph: FlowGraph, step: str) -> list[str]:
    """The steps before ``step``, without the switches that loop back to it."""
    return [p for p in graph[step].in_steps if (p, step) not in graph.back_edges]


def direct_body(graph: FlowGraph, split: str) -> str | None:
    """The one step of a foreach body that needs no template of its own, if so."""
    body = _body(graph, split)
    if len(body) != 1:
        return None
    (step,) = body
    looping = any(step in edge for edge in graph.back_edges)
    return None if looping else step


def find_scopes(graph: FlowGraph) -> Scope:
    """The root scope of ``graph`` (a flow that passed ``check_flow``)."""
    _refuse_parallel(graph)
    order = [n.name for n in graph.sorted_nodes()]
    root = Scope("main", str(graph.start), frozenset(order))
    inner = sorted(_foreach_scopes(graph) + _loop_scopes(graph), key=_outer_first)
    placed = [root]
    for scope in inner:
        parent = _parent(placed, scope)
        parent.children.append(scope)
        placed.append(scope)
    for scope in placed:
        held = {n for c in scope.children for n in c.nodes}
        scope.members = [n for n in order if n in scope.nodes and n not in held]
        scope.children.sort(key=lambda c: order.index(c.entry))
    return root


def _outer_first(scope: Scope) -> tuple[int, int]:
    return (-len(scope.nodes), 0 if scope.kind == "foreach" else 1)


def _parent(placed: list[Scope], scope: Scope) -> Scope:
    """The innermost scope placed so far that holds ``scope``; refuse a partial overlap."""
    for other in reversed(placed):
        if scope.nodes <= other.nodes:
            return other
        if scope.nodes & other.nodes:
            raise ConfigError(
                f"Argo Workflows: the {scope.kind} starting at step '{scope.entry}' overlaps "
                f"the {other.kind} starting at step '{other.entry}' without being inside it. "
                "Make one loop or foreach lie entirely inside the other."
            )
    raise AssertionError("the root scope holds every step")


def _body(graph: FlowGraph, split: str) -> frozenset[str]:
    return frozenset(n.name for n in graph if split in n.split_parents)


def _foreach_scopes(graph: FlowGraph) -> list[Scope]:
    scopes = []
    for node in graph:
        if node.transition != "foreach" or direct_body(graph, node.name) is not None:
            continue
        join = graph[str(node.matching_join)]
        (last,) = forward_parents(graph, join.name)
        scopes.append(Scope("foreach", node.out_steps[0], _body(graph, node.name), last, node.name))
    return scopes


def _loop_scopes(graph: FlowGraph) -> list[Scope]:
    targets: dict[str, str] = {}
    scopes = []
    for switch, target in sorted(graph.back_edges):
        if target in targets:
            raise ConfigError(
                f"Argo Workflows: steps '{targets[target]}' and '{switch}' both loop back to "
                f"step '{target}'. Loop back to it from one switch only.",
                location=_where(graph, switch),
            )
        targets[target] = switch
        region = _reachable(graph, target, forward=True) & _reachable(graph, switch, forward=False)
        scopes.append(Scope("loop", target, frozenset(region), switch))
    return scopes


def _reachable(graph: FlowGraph, start: str, *, forward: bool) -> set[str]:
    """Steps reachable from ``start`` along forward edges (or against them)."""
    seen, todo = {start}, [start]
    while todo:
        step = todo.pop()
        if forward:
            nxt = [o for o in graph[step].out_steps if (step, o) not in graph.back_edges]
        else:
            nxt = forward_parents(graph, step)
        for other in nxt:
            if other in graph and other not in seen:
                seen.add(other)
                todo.append(other)
    return seen


def _refuse_parallel(graph: FlowGraph) -> None:
    for node in graph:
        if node.transition == "parallel" or node.is_parallel_step:
            raise ConfigError(
                f"Argo Workflows: step '{node.name}' uses num_parallel/@parallel, which the Argo "
                "Workflows compiler does not support yet. Run it locally or with --executor ray.",
                location=_where(graph, node.name),
            )


def _where(graph: FlowGraph, step: str) -> str | None:
    node = graph[step]
    return f"{node.file}:{node.line}" if node.file else None
