"""``build_graph``: the static graph of a flow class, read from its source."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from stepwell.flow import FlowSpec, step_decorators, step_marker
from stepwell.graph._nodes import FlowGraph, StepNode
from stepwell.graph._parse import SourceIndex, read_step
from stepwell.graph._structure import Structure, analyze, successors


def build_graph(flow_cls: type[FlowSpec]) -> FlowGraph:
    """Read the flow's steps from source and connect them; nothing runs.

    The graph is built even when the flow is invalid; :func:`lint` reports
    what is wrong. Raises FlowDefinitionError when a step's source cannot
    be read (e.g. a flow typed into an interactive session).

    Example:
        >>> graph = build_graph(HelloFlow)
        >>> [n.name for n in graph.sorted_nodes()]
        ['start', 'end']
    """
    steps = flow_cls._sw_steps()
    sources = SourceIndex()
    nodes = {name: _read(name, func, sources) for name, func in steps.items()}
    start = _mark(nodes, steps, "start")
    end = _mark(nodes, steps, "end")
    _connect(nodes)
    structure = analyze(nodes, start)
    _annotate(nodes, structure)
    file, line = _class_location(flow_cls, nodes, sources)
    return FlowGraph(
        flow_name=flow_cls.__name__,
        nodes=nodes,
        start=start,
        end=end,
        doc=inspect.cleandoc(flow_cls.__dict__.get("__doc__") or ""),
        file=file,
        line=line,
        back_edges=frozenset(structure.back_edges),
        other_methods=frozenset(_other_methods(flow_cls, steps)),
    )


def _read(name: str, func: Callable[..., Any], sources: SourceIndex) -> StepNode:
    node = read_step(name, func, sources)
    node.decorators = tuple(step_decorators(func))
    node.is_parallel_step = "parallel" in node.decorator_names
    node.is_join = len(node.args) >= 2
    return node


def _mark(
    nodes: dict[str, StepNode], steps: dict[str, Callable[..., Any]], role: str
) -> str | None:
    """Flag the start (or end) step(s): ``@step(start=True)`` ones, else the one named so.

    A step named ``start`` is also flagged next to a marked one, so that lint
    reports the ambiguity. Returns the chosen name.
    """
    marked = [name for name, func in steps.items() if getattr(step_marker(func), role)]
    candidates = marked + ([role] if role in nodes and role not in marked else [])
    for name in candidates:
        setattr(nodes[name], f"is_{role}", True)
    return candidates[0] if candidates else None


def _connect(nodes: dict[str, StepNode]) -> None:
    incoming: dict[str, list[str]] = {name: [] for name in nodes}
    for node in nodes.values():
        node.kind = _kind(node)
        for nxt in successors(node, nodes):
            incoming[nxt].append(node.name)
    for name, preds in incoming.items():
        nodes[name].in_steps = tuple(preds)


def _kind(node: StepNode) -> str:
    if node.is_end:
        return "end"
    if node.is_join:
        return "join"
    return "linear" if node.transition == "none" else node.transition


def _annotate(nodes: dict[str, StepNode], structure: Structure) -> None:
    for join, split in structure.closes.items():
        nodes[join].closes = split
        nodes[split].matching_join = join
    for name, stack in structure.stacks.items():
        node = nodes[name]
        node.split_parents = tuple(frame[0] for frame in stack)
        node.in_foreach = any(
            nodes[s].transition in ("foreach", "parallel") for s in node.split_parents
        )


def _class_location(
    flow_cls: type, nodes: dict[str, StepNode], sources: SourceIndex
) -> tuple[str, int]:
    first = next(iter(nodes.values()), None)
    line = sources.class_line(flow_cls)
    file = getattr(inspect.getmodule(flow_cls), "__file__", None)
    if line is None or not file:
        return (first.file, first.line) if first else ("<unknown>", 0)
    return file, line


def _other_methods(flow_cls: type, steps: dict[str, Callable[..., Any]]) -> list[str]:
    return [
        name
        for name in dir(flow_cls)
        if not name.startswith("_")
        and name not in steps
        and callable(getattr(flow_cls, name, None))
    ]
