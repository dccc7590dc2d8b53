"""render_text (``show``) and render_dot (``output-dot``) on real shape flows."""

from __future__ import annotations

import re

from stepwell.graph import build_graph, render_dot, render_text

_EDGE = re.compile(r'^\s*"([^"]+)" -> "([^"]+)"(?: \[(.*)\])?;$')
_NODE = re.compile(r'^\s*"([^"]+)" \[(.*)\];$')


def _parse_dot(text: str) -> tuple[str, dict[str, str], dict[tuple[str, str], str]]:
    """A small DOT reader for our output: graph name, node attrs, edge attrs."""
    lines = text.strip().splitlines()
    header = re.match(r'^digraph "([^"]+)" \{$', lines[0])
    assert header, lines[0]
    assert lines[-1] == "}"
    nodes: dict[str, str] = {}
    edges: dict[tuple[str, str], str] = {}
    for line in lines[1:-1]:
        if edge := _EDGE.match(line):
            edges[(edge.group(1), edge.group(2))] = edge.group(3) or ""
        elif node := _NODE.match(line):
            nodes[node.group(1)] = node.group(2)
        else:
            assert re.match(r"^\s*(rankdir=|node )", line), line
    return header.group(1), nodes, edges


def test_dot_of_a_branch_has_every_edge(shape) -> None:
    graph = build_graph(shape("branch_flow"))
    name, nodes, edges = _parse_dot(render_dot(graph))
    assert name == "BranchFlow"
    assert set(nodes) == {"start", "a", "b", "join", "end"}
    assert set(edges) == {
        ("start", "a"),
        ("start", "b"),
        ("a", "join"),
        ("b", "join"),
        ("join", "end"),
    }
    assert "shape=invtrapezium" in nodes["start"] and "peripheries=2" in nodes["start"]
    assert "shape=trapezium" in nodes["join"]
    assert "shape=ellipse" in nodes["end"]


def test_dot_labels_foreach_and_switch_edges(shape) -> None:
    _, _, foreach_edges = _parse_dot(render_dot(build_graph(shape("foreach_flow"))))
    assert foreach_edges[("start", "square")] == 'label="foreach items"'
    _, nodes, edges = _parse_dot(render_dot(build_graph(shape("recursion_flow"))))
    assert "shape=diamond" in nodes["loop"]
    assert edges[("loop", "loop")] == 'label="status = again"'
    assert edges[("loop", "end")] == 'label="status = done"'
    _, nodes, edges = _parse_dot(render_dot(build_graph(shape("parallel_flow"))))
    assert edges[("start", "train")] == 'label="num_parallel=3"'
    assert "style=bold" in nodes["train"]


def test_dot_edges_match_graph_edges_for_every_kind(shape) -> None:
    for name in ("nested_foreach_flow", "switch_in_branch_flow", "chain20_flow"):
        graph = build_graph(shape(name))
        _, nodes, edges = _parse_dot(render_dot(graph))
        assert set(nodes) == set(graph.nodes)
        assert set(edges) == set(graph.edges())


def test_text_lists_steps_in_order_with_docs_and_transitions(shape) -> None:
    flow = shape("linear_flow")
    text = render_text(build_graph(flow), flow)
    assert text.startswith(
        "LinearFlow\n    Doubles a number, squares it, and adds the original back.\n"
    )
    positions = [text.index(f"Step {name}") for name in ("start", "double", "square", "end")]
    assert positions == sorted(positions)
    double = text[text.index("Step double") : text.index("Step square")]
    assert "@retry(times=2)" in double
    assert "    Double it." in double
    assert "    => square" in double
    assert "=>" not in text[text.index("Step end") :]


def test_text_shows_parameters_and_transition_annotations(shape) -> None:
    flow = shape("switch_flow")
    text = render_text(build_graph(flow), flow)
    assert "Parameters:\n    --mode (str, default 'fast'): which path to take: fast or slow" in text
    assert "=> switch on self.route: 'fast' -> fast, 'slow' -> slow" in text
    assert "Step start  (switch)" in text
    foreach = shape("foreach_flow")
    assert "=> square  (foreach over self.items)" in render_text(build_graph(foreach), foreach)
    gang = shape("parallel_flow")
    assert "=> train  (num_parallel=3)" in render_text(build_graph(gang), gang)


def test_text_of_parameters_of_every_type(shape) -> None:
    flow = shape("parameters_flow")
    text = render_text(build_graph(flow), flow)
    for line in (
        "--who (str, default 'world'): whom to greet",
        "--count (int, default 3): a whole number",
        "--ratio (float, default 0.5): a fraction",
        "--verbose (bool, default False): print more",
        "--model (JSON, default '{\"layers\": [1, 2]}'): model spec",
    ):
        assert line in text
