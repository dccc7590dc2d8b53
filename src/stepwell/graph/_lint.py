"""``lint``: every check of a flow's static graph, each finding with file, line and fix.

Checks of one step (name, signature, its ``self.next``) always run; checks of
the whole graph (cycles, reachability, split/join balance, parallel) run only
when every transition is readable and points to a known step, so that one
typo does not cascade into a page of nonsense.
"""

from __future__ import annotations

import difflib
import keyword
import re
from collections.abc import Iterator

from stepwell.exceptions import LintError
from stepwell.flow import FlowSpec
from stepwell.graph._build import build_graph
from stepwell.graph._findings import Finding
from stepwell.graph._lint_cache import cache_checks
from stepwell.graph._nodes import FlowGraph, StepNode
from stepwell.graph._structure import analyze

_VALID_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
#: Names a step may not take: FlowSpec's own attributes and Python keywords.
RESERVED_STEP_NAMES = frozenset(
    {n for n in dir(FlowSpec) if not n.startswith("_")}
    | set(keyword.kwlist)
    | set(keyword.softkwlist)
)


def check_flow(flow_cls: type[FlowSpec]) -> FlowGraph:
    """Build the flow's graph and lint it; raise LintError with every finding.

    Example:
        >>> graph = check_flow(HelloFlow)  # raises LintError if HelloFlow is invalid
    """
    graph = build_graph(flow_cls)
    findings = lint(graph)
    if findings:
        raise LintError(findings)
    return graph


def lint(graph: FlowGraph) -> list[Finding]:
    """Every finding for ``graph``, ordered by file and line."""
    findings: list[Finding] = list(_flow_checks(graph))
    for node in graph:
        findings.extend(_step_checks(graph, node))
    sound = not findings or all(f.code not in _BREAKING for f in findings)
    if sound and graph.start in graph and graph.end in graph:
        findings.extend(_graph_checks(graph))
    return sorted(findings, key=lambda f: (f.file, f.line, f.code))


#: Findings after which the graph-wide checks would only repeat them.
_BREAKING = frozenset(
    {
        "malformed-next",
        "unknown-step",
        "missing-next",
        "missing-start",
        "missing-end",
        "duplicate-start",
        "duplicate-end",
    }
)


def _at(code: str, node: StepNode, message: str, fix: str, *, at_next: bool = False) -> Finding:
    line = node.next_line if at_next and node.next_line else node.line
    return Finding(code, message, node.file, line, node.name, fix)


def _flow_checks(graph: FlowGraph) -> Iterator[Finding]:
    for role in ("start", "end"):
        flagged = [n for n in graph if getattr(n, f"is_{role}")]
        if not flagged:
            yield Finding(
                f"missing-{role}",
                f"{graph.flow_name} has no {role} step.",
                graph.file,
                graph.line,
                role,
                f"Add a step named '{role}', or mark one with @step({role}=True).",
            )
        for extra in flagged[1:]:
            yield _at(
                f"duplicate-{role}",
                extra,
                f"is a second {role} step (the first is '{flagged[0].name}').",
                f"Keep one {role} step: rename one, or drop a @step({role}=True) marker.",
            )


def _step_checks(graph: FlowGraph, node: StepNode) -> Iterator[Finding]:
    yield from _name_checks(node)
    yield from _signature_checks(node)
    yield from _next_checks(graph, node)
    yield from node.parse_issues
    yield from cache_checks(node)
    if node.is_end:
        return  # its transition is reported above; its targets do not matter
    for target in node.out_steps:
        if target not in graph:
            yield _unknown_step(graph, node, target)
    start = graph.start
    if start is not None and start in node.out_steps and start in graph:
        yield _at(
            "start-has-incoming",
            node,
            f"goes to the start step '{start}'; no step may go to the start step.",
            "Point to another step; to repeat work, loop back with a switch to a later step.",
            at_next=True,
        )


def _name_checks(node: StepNode) -> Iterator[Finding]:
    if node.name in RESERVED_STEP_NAMES:
        yield _at(
            "reserved-name",
            node,
            f"'{node.name}' is a reserved name (a FlowSpec attribute or a Python keyword).",
            f"Rename the step, e.g. '{node.name}_step'.",
        )
    elif not _VALID_NAME.match(node.name):
        yield _at(
            "invalid-name",
            node,
            f"'{node.name}' is not a valid step name: use lowercase letters, digits and '_', "
            "starting with a letter.",
            f"Rename the step, e.g. '{_suggest_name(node.name)}'.",
        )


def _suggest_name(name: str) -> str:
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower().lstrip("_")
    snake = re.sub(r"[^a-z0-9_]", "_", snake)
    return snake if snake and snake[0].isalpha() else f"step_{snake}"


def _signature_checks(node: StepNode) -> Iterator[Finding]:
    if not node.args:
        yield _at(
            "missing-self",
            node,
            "the step function takes no 'self' argument.",
            f"Define it as def {node.name}(self):",
        )
    elif len(node.args) > 2:
        yield _at(
            "too-many-args",
            node,
            f"takes {len(node.args)} arguments ({', '.join(node.args)}); a step takes "
            "'self', and a join 'self, inputs'.",
            f"Define it as def {node.name}(self): or def {node.name}(self, inputs):",
        )
    if node.is_end and node.is_join:
        yield _at(
            "end-is-join",
            node,
            "the end step takes 'inputs'; it may not be a join.",
            f"Join in a step before end, and define def {node.name}(self):",
        )
    elif node.is_join and node.transition in ("split", "foreach", "parallel"):
        yield _at(
            "join-and-split",
            node,
            f"is both a join (it takes '{node.args[1]}') and a {node.transition}.",
            "Add a step after the join that does the split.",
        )


def _next_checks(graph: FlowGraph, node: StepNode) -> Iterator[Finding]:
    if node.is_end:
        if node.transition != "none" or node.next_line:
            yield _at(
                "end-has-transition",
                node,
                "the end step calls self.next(); end has no successor.",
                "Remove the self.next(...) call from the end step.",
                at_next=True,
            )
    elif node.transition == "none" and graph.end is not None:
        where = (
            f"calls self.next() on line {node.next_line} but not" if node.next_line else "has no"
        )
        yield _at(
            "missing-next",
            node,
            f"{where} self.next(...) as its last statement.",
            "End the step with one unconditional self.next(...) call, e.g. self.next(self.end).",
            at_next=True,
        )


def _unknown_step(graph: FlowGraph, node: StepNode, target: str) -> Finding:
    steps = list(graph.nodes)
    close = difflib.get_close_matches(target, steps, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    if target in graph.other_methods:
        message = f"self.next() names '{target}', a method of {graph.flow_name} that is not a step."
        fix = f"Decorate '{target}' with @step, or name one of: {', '.join(steps)}."
    else:
        message = f"self.next() names '{target}', but {graph.flow_name} has no step of that name."
        fix = f"Steps defined: {', '.join(steps)}.{hint}"
    return _at("unknown-step", node, message, fix, at_next=True)


def _graph_checks(graph: FlowGraph) -> Iterator[Finding]:
    structure = analyze(graph.nodes, graph.start)
    yield from structure.findings
    has_cycle = any(f.code == "cycle" for f in structure.findings)
    for node in graph:
        if node.name not in structure.reachable and not has_cycle:
            yield _at(
                "unreachable",
                node,
                f"cannot be reached from the start step '{graph.start}'.",
                f"Make a step go to it with self.next(self.{node.name}), or delete it.",
            )
    yield from _parallel_checks(graph)


def _parallel_checks(graph: FlowGraph) -> Iterator[Finding]:
    for node in graph:
        if node.transition == "parallel":
            target = graph[node.out_steps[0]]
            if not target.is_parallel_step:
                yield _at(
                    "num-parallel-without-parallel",
                    node,
                    f"starts {node.num_parallel} tasks of '{target.name}' with num_parallel=, "
                    "but that step is not decorated with @parallel.",
                    f"Add @parallel above @step on '{target.name}'.",
                    at_next=True,
                )
        if node.is_parallel_step:
            for pred in node.in_steps:
                if graph[pred].transition != "parallel":
                    yield _at(
                        "parallel-without-num-parallel",
                        node,
                        f"is a @parallel step but '{pred}' goes to it without num_parallel=.",
                        f"In '{pred}', write self.next(self.{node.name}, num_parallel=N).",
                    )
