"""Walk the graph from ``start``: back edges, reachability, and the split/join balance.

Every split (static branch, foreach, ``num_parallel``) opens a *frame*
``(split step, branch)``; a join closes the innermost frame, and must receive
exactly one path from each branch of that split. A switch opens no frame: its
cases re-converge on a common step. A back edge (a step pointing to a step
already on the path from ``start``) is allowed only out of a switch.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from stepwell.graph._findings import Finding
from stepwell.graph._nodes import SPLIT_KINDS, StepNode

Frame = tuple[str, str]
Stack = tuple[Frame, ...]


@dataclass
class Structure:
    """What :func:`analyze` found; ``findings`` are lint findings."""

    back_edges: set[tuple[str, str]] = field(default_factory=set)
    reachable: set[str] = field(default_factory=set)
    stacks: dict[str, Stack] = field(default_factory=dict)
    closes: dict[str, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    reported_splits: set[str] = field(default_factory=set)


def successors(node: StepNode, nodes: dict[str, StepNode]) -> list[str]:
    """Known next steps (none out of the end step)."""
    if node.is_end:
        return []
    return [name for name in node.out_steps if name in nodes]


def analyze(nodes: dict[str, StepNode], start: str | None) -> Structure:
    result = Structure()
    if start not in nodes:
        return result
    _walk(nodes, start, result)
    order = _forward_order(nodes, start, result)
    for name in order:
        _place(nodes, nodes[name], result)
    _check_back_edges(nodes, result)
    return result


def _walk(nodes: dict[str, StepNode], start: str, result: Structure) -> None:
    """Depth-first from start: reachable steps and back edges."""
    on_path: set[str] = set()
    stack: list[tuple[str, list[str]]] = [(start, successors(nodes[start], nodes))]
    on_path.add(start)
    result.reachable.add(start)
    while stack:
        name, todo = stack[-1]
        if not todo:
            stack.pop()
            on_path.discard(name)
            continue
        nxt = todo.pop(0)
        if nxt in on_path:
            result.back_edges.add((name, nxt))
        elif nxt not in result.reachable:
            result.reachable.add(nxt)
            on_path.add(nxt)
            stack.append((nxt, successors(nodes[nxt], nodes)))


def _forward_order(nodes: dict[str, StepNode], start: str, result: Structure) -> list[str]:
    """Reachable steps in topological order of the forward edges (Kahn)."""
    indegree = dict.fromkeys(result.reachable, 0)
    for name in result.reachable:
        for nxt in successors(nodes[name], nodes):
            if (name, nxt) not in result.back_edges:
                indegree[nxt] += 1
    ready, order = [start], []
    while ready:
        name = ready.pop(0)
        order.append(name)
        for nxt in successors(nodes[name], nodes):
            if (name, nxt) not in result.back_edges:
                indegree[nxt] -= 1
                if indegree[nxt] == 0:
                    ready.append(nxt)
    return order


def edge_stack(node: StepNode, target: str, stacks: dict[str, Stack]) -> Stack:
    """The frames a path carries along the edge ``node -> target``."""
    base = stacks.get(node.name, ())
    if node.transition in SPLIT_KINDS:
        return (*base, (node.name, target))
    return base


def _incoming(nodes: dict[str, StepNode], node: StepNode, result: Structure) -> list[Stack]:
    return [
        edge_stack(nodes[p], node.name, result.stacks)
        for p in node.in_steps
        if p in result.stacks and (p, node.name) not in result.back_edges
    ]


def _place(nodes: dict[str, StepNode], node: StepNode, result: Structure) -> None:
    incoming = _incoming(nodes, node, result)
    if not incoming:
        result.stacks[node.name] = ()
    elif node.is_join:
        result.stacks[node.name] = _place_join(nodes, node, incoming, result)
    else:
        result.stacks[node.name] = _place_step(nodes, node, incoming, result)
    if node.is_end:
        _check_end(nodes, node, result)


def _finding(
    code: str, node: StepNode, message: str, fix: str, *, at_next: bool = False
) -> Finding:
    line = node.next_line if at_next and node.next_line else node.line
    return Finding(code, message, node.file, line, node.name, fix)


def _place_step(
    nodes: dict[str, StepNode], node: StepNode, incoming: list[Stack], result: Structure
) -> Stack:
    if len(set(incoming)) == 1:
        return incoming[0]
    split = _common_split(incoming)
    if split is None:
        result.findings.append(
            _finding(
                "unbalanced-split",
                node,
                f"is reached from different split levels ({_describe(incoming)}).",
                "Close every split with a join before its paths meet again.",
            )
        )
    elif node.is_end:
        _report_open(nodes, split, result)
    else:
        result.reported_splits.add(split)
        result.findings.append(
            _finding(
                "join-missing-inputs",
                node,
                f"the branches of split '{split}' meet here, but the step takes no "
                "'inputs' argument, so it is not a join.",
                f"Make it a join: def {node.name}(self, inputs):",
            )
        )
    return incoming[0][:-1] if split else min(incoming, key=len)


def _common_split(incoming: list[Stack]) -> str | None:
    """The split whose branches these paths are, when they differ only in the last frame."""
    if any(not s for s in incoming) or len({s[:-1] for s in incoming}) != 1:
        return None
    splits = {s[-1][0] for s in incoming}
    return splits.pop() if len(splits) == 1 else None


def _describe(incoming: list[Stack]) -> str:
    parts = [
        "inside " + " > ".join(f[0] for f in s) if s else "outside any split" for s in incoming
    ]
    return "; ".join(dict.fromkeys(parts))


def _place_join(
    nodes: dict[str, StepNode], node: StepNode, incoming: list[Stack], result: Structure
) -> Stack:
    switches = [nodes[p] for p in node.in_steps if nodes[p].transition == "switch"]
    for sw in switches:
        result.findings.append(
            _finding(
                "switch-into-join",
                sw,
                f"a case of the switch goes straight into join step '{node.name}'.",
                f"Send the cases to steps that re-converge on one step, and go from that "
                f"step to '{node.name}'.",
                at_next=True,
            )
        )
    if any(not s for s in incoming):
        if result.reported_splits:
            return ()  # a consequence of a split problem reported already
        result.findings.append(
            _finding(
                "join-without-split",
                node,
                "takes 'inputs' (it is a join) but no split precedes it.",
                f"Remove the 'inputs' argument (def {node.name}(self):) or split before it.",
            )
        )
        return ()
    if len({s[:-1] for s in incoming}) != 1 or len({s[-1][0] for s in incoming}) != 1:
        result.findings.append(
            _finding(
                "join-unrelated-splits",
                node,
                f"joins paths from unrelated splits ({_describe(incoming)}).",
                "Give every split its own join, innermost split first.",
            )
        )
        result.reported_splits.update(frame[0] for s in incoming for frame in s)
        return min(incoming, key=len)[:-1]
    if not switches:
        _check_join_paths(nodes, node, incoming, result)
    return incoming[0][:-1]


def _check_join_paths(
    nodes: dict[str, StepNode], node: StepNode, incoming: list[Stack], result: Structure
) -> None:
    split = nodes[incoming[0][-1][0]]
    branches = Counter(s[-1][1] for s in incoming)
    expected = set(successors(split, nodes))
    opened = ", ".join(sorted(expected))
    if set(branches) != expected or max(branches.values()) > 1:
        result.reported_splits.add(split.name)
        result.findings.append(
            _finding(
                "join-wrong-paths",
                node,
                f"joins {len(incoming)} path(s) ({', '.join(node.in_steps)}), but split "
                f"'{split.name}' opened {len(expected)} branch(es) ({opened}).",
                f"Make each branch of '{split.name}' end with "
                f"self.next(self.{node.name}) exactly once; re-converge the cases of a "
                "switch on one step before the join.",
            )
        )
        return
    result.closes[node.name] = split.name
    if split.transition == "foreach" and node.name in split.out_steps:
        result.findings.append(
            _finding(
                "empty-foreach",
                split,
                f"the foreach goes straight into its join '{node.name}'.",
                "Add a step between the foreach and the join that does the per-item work.",
                at_next=True,
            )
        )


def _check_end(nodes: dict[str, StepNode], node: StepNode, result: Structure) -> None:
    for split, _ in result.stacks.get(node.name, ()):
        _report_open(nodes, split, result)


def _report_open(nodes: dict[str, StepNode], split: str, result: Structure) -> None:
    if split in result.reported_splits:
        return
    result.reported_splits.add(split)
    result.findings.append(
        _finding(
            "end-before-join",
            nodes[split],
            "the split opened here reaches the end step before it is joined.",
            "Add a join step (def join(self, inputs): ...) that the branches go to before end.",
            at_next=True,
        )
    )


def _check_back_edges(nodes: dict[str, StepNode], result: Structure) -> None:
    for src, dst in sorted(result.back_edges):
        node = nodes[src]
        if nodes[dst].is_start:
            continue  # reported as start-has-incoming
        if node.transition != "switch":
            result.findings.append(
                _finding(
                    "cycle",
                    node,
                    f"goes back to step '{dst}', making a cycle.",
                    "Only a switch may loop back (recursion): use "
                    f"self.next({{'again': self.{dst}, 'done': self.<next>}}, condition='<var>'), "
                    "or point to a later step.",
                    at_next=True,
                )
            )
        elif edge_stack(node, dst, result.stacks) != result.stacks.get(dst, ()):
            result.findings.append(
                _finding(
                    "loop-crosses-split",
                    node,
                    f"the switch loops back to '{dst}' across a split or join.",
                    "Loop back only to a step inside the same split (or outside any split).",
                    at_next=True,
                )
            )
