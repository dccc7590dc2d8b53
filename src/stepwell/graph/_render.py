"""Text (``show``) and Graphviz DOT (``output-dot``) renderings of a flow's graph."""

from __future__ import annotations

import textwrap
from typing import Any

from stepwell.flow import FlowSpec, flow_mutators, step_mutators
from stepwell.graph._nodes import FlowGraph, StepNode

_SHAPES = {
    "linear": "box",
    "split": "invtrapezium",
    "foreach": "invtrapezium",
    "parallel": "invtrapezium",
    "switch": "diamond",
    "join": "trapezium",
    "end": "ellipse",
}


def render_text(graph: FlowGraph, flow_cls: type[FlowSpec]) -> str:
    """The flow as ``show`` prints it: docstring, parameters, configs, then each step."""
    lines = [graph.flow_name]
    if graph.doc:
        lines.extend(_indent(graph.doc))
    declared = flow_cls._sw_parameters().values()
    params = [p for p in declared if p.kind != "config"]
    configs = [p for p in declared if p.kind == "config"]
    if params:
        lines += ["", "Parameters:"]
        lines.extend(_parameter_line(p.describe()) for p in params)
    if configs:
        lines += ["", "Configs:"]
        lines.extend(_config_line(c) for c in configs)
    mutators = flow_mutators(flow_cls)
    if mutators:
        lines += ["", "Mutators (applied when a run starts; the steps below are as written):"]
        lines.extend(f"    {m!r}" for m in mutators)
    for node in graph.sorted_nodes():
        lines += ["", f"Step {node.name}" + (f"  ({node.kind})" if node.kind != "linear" else "")]
        lines.extend(f"    {m!r}" for m in step_mutators(getattr(flow_cls, node.name, None)))
        lines.extend(f"    {d!r}" for d in node.decorators)
        if node.doc:
            lines.extend(_indent(node.doc))
        if node.out_steps and not node.is_end:
            lines.append(f"    => {_transition_text(node)}")
    return "\n".join(lines) + "\n"


def _indent(text: str) -> list[str]:
    return [f"    {line}".rstrip() for line in textwrap.dedent(text).splitlines()]


def _parameter_line(info: dict[str, object]) -> str:
    text = f"    --{info['name']} ({info['type']}"
    if info.get("required"):
        text += ", required"
    elif info.get("default") is not None:
        text += f", default {info['default']!r}"
    text += ")"
    return text + (f": {info['help']}" if info.get("help") else "")


def _config_line(config: Any) -> str:
    text = f"    {config.name}"
    if config.required:
        text += " (required)"
    elif config.default is not None:
        text += f" (default file {config.default!r})"
    elif config.default_value is not None:
        text += " (default value)"
    text += f"  --config {config.name} FILE"
    return text + (f": {config.help}" if config.help else "")


def _transition_text(node: StepNode) -> str:
    if node.transition == "switch":
        cases = ", ".join(f"{k!r} -> {v}" for k, v in node.switch_cases.items())
        return f"switch on self.{node.condition}: {cases}"
    text = ", ".join(node.out_steps)
    if node.transition == "foreach":
        return f"{text}  (foreach over self.{node.foreach_var})"
    if node.transition == "parallel":
        return f"{text}  (num_parallel={node.num_parallel})"
    return text


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_dot(graph: FlowGraph) -> str:
    """Graphviz DOT: nodes shaped by kind, edges labelled with foreach vars and switch cases."""
    lines = [
        f"digraph {_quote(graph.flow_name)} {{",
        "  rankdir=TB;",
        '  node [fontname="Helvetica"];',
    ]
    for node in graph.sorted_nodes():
        attrs = f"shape={_SHAPES.get(node.kind, 'box')}"
        if node.is_start:
            attrs += ", peripheries=2"
        if node.is_parallel_step:
            attrs += ", style=bold"
        lines.append(f"  {_quote(node.name)} [{attrs}, label={_quote(node.name)}];")
    for node in graph.sorted_nodes():
        lines.extend(_dot_edges(graph, node))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_edges(graph: FlowGraph, node: StepNode) -> list[str]:
    if node.is_end:
        return []
    labels: dict[str, list[str]] = {name: [] for name in node.out_steps}
    for key, target in node.switch_cases.items():
        labels[target].append(f"{node.condition} = {key}")
    for target in node.out_steps:
        if node.foreach_var:
            labels[target].append(f"foreach {node.foreach_var}")
        if node.num_parallel is not None:
            labels[target].append(f"num_parallel={node.num_parallel}")
    edges = []
    for target, texts in labels.items():
        if target not in graph:
            continue
        extra = f" [label={_quote(', '.join(texts))}]" if texts else ""
        style = " [style=dashed]" if (node.name, target) in graph.back_edges and not texts else ""
        edges.append(f"  {_quote(node.name)} -> {_quote(target)}{extra}{style};")
    return edges
