"""``StepNode`` and ``FlowGraph``: the static graph of a flow, as data."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from stepwell.graph._findings import Finding

#: Node kinds. A join step's kind is "join" whatever its out-transition.
KINDS = ("linear", "split", "foreach", "switch", "parallel", "join", "end")
#: Kinds that open a split which a join must close.
SPLIT_KINDS = ("split", "foreach", "parallel")


@dataclass
class StepNode:
    """One step of the flow as read from its source.

    ``transition`` is the type of the step's own ``self.next`` call ("linear",
    "split", "foreach", "switch", "parallel", or "none" when it has none);
    ``kind`` is the node's role in the graph (see :data:`KINDS`).
    """

    name: str
    kind: str = "linear"
    transition: str = "none"
    out_steps: tuple[str, ...] = ()
    in_steps: tuple[str, ...] = ()
    foreach_var: str | None = None
    condition: str | None = None
    switch_cases: dict[str, str] = field(default_factory=dict)
    num_parallel: int | str | None = None
    is_join: bool = False
    is_parallel_step: bool = False
    split_parents: tuple[str, ...] = ()
    matching_join: str | None = None
    closes: str | None = None
    in_foreach: bool = False
    decorators: tuple[Any, ...] = ()
    doc: str = ""
    file: str = ""
    line: int = 0
    next_line: int = 0
    is_start: bool = False
    is_end: bool = False
    #: Positional argument names of the step function, ``self`` included.
    args: tuple[str, ...] = ()
    #: Problems found while reading the step's source (reported by ``lint``).
    parse_issues: tuple[Finding, ...] = ()

    @property
    def decorator_names(self) -> tuple[str, ...]:
        return tuple(getattr(d, "NAME", type(d).__name__) for d in self.decorators)

    def decorator(self, name: str) -> Any | None:
        """The step's decorator called ``name``, or None."""
        for deco in self.decorators:
            if getattr(deco, "NAME", None) == name:
                return deco
        return None


@dataclass
class FlowGraph:
    """The flow's steps in definition order, with ``start`` and ``end`` names.

    ``back_edges`` holds the edges that point back to a step already on the
    path from ``start`` (allowed only out of a switch: recursion).
    """

    flow_name: str
    nodes: dict[str, StepNode]
    start: str | None
    end: str | None
    doc: str = ""
    file: str = ""
    line: int = 0
    back_edges: frozenset[tuple[str, str]] = frozenset()
    #: Names of callables of the flow class that are not steps (for "did you mean").
    other_methods: frozenset[str] = frozenset()

    def __getitem__(self, name: str) -> StepNode:
        return self.nodes[name]

    def __iter__(self) -> Iterator[StepNode]:
        return iter(self.nodes.values())

    def __contains__(self, name: object) -> bool:
        return name in self.nodes

    def __len__(self) -> int:
        return len(self.nodes)

    def edges(self) -> Iterator[tuple[str, str]]:
        """Every ``(step, next_step)`` pair whose target is a known step."""
        for node in self:
            for out in node.out_steps:
                if out in self.nodes:
                    yield node.name, out

    def sorted_nodes(self) -> list[StepNode]:
        """Steps in topological order from ``start``, ignoring back edges.

        Ties are broken by definition order. Steps not reachable from
        ``start`` follow at the end, in definition order.
        """
        order = {name: i for i, name in enumerate(self.nodes)}
        indegree = dict.fromkeys(self.nodes, 0)
        forward = [(a, b) for a, b in self.edges() if (a, b) not in self.back_edges]
        for _, dst in forward:
            indegree[dst] += 1
        successors: dict[str, list[str]] = {name: [] for name in self.nodes}
        for src, dst in forward:
            successors[src].append(dst)
        result: list[str] = []
        heap = [(order[self.start], self.start)] if self.start in self.nodes else []
        seen: set[str] = set()
        while heap:
            _, name = heapq.heappop(heap)
            if name in seen:
                continue
            seen.add(name)
            result.append(name)
            for nxt in successors[name]:
                indegree[nxt] -= 1
                if indegree[nxt] <= 0:
                    heapq.heappush(heap, (order[nxt], nxt))
        result.extend(name for name in self.nodes if name not in seen)
        return [self.nodes[name] for name in result]
