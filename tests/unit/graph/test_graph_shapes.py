"""The static graph of every shape flow: kinds, edges, joins, split parents, foreach."""

from __future__ import annotations

import sys

import pytest

from conftest import SHAPES
from stepwell.flow import load_flow_class
from stepwell.graph import build_graph, lint

# step: (kind, out_steps, in_steps, split_parents, matching_join, in_foreach)
EXPECTED_GRAPHS: dict[str, dict[str, tuple[str, str, str, str, str | None, bool]]] = {
    "linear_flow": {
        "start": ("linear", "double", "", "", None, False),
        "double": ("linear", "square", "start", "", None, False),
        "square": ("linear", "end", "double", "", None, False),
        "end": ("end", "", "square", "", None, False),
    },
    "branch_flow": {
        "start": ("split", "a,b", "", "", "join", False),
        "a": ("linear", "join", "start", "start", None, False),
        "b": ("linear", "join", "start", "start", None, False),
        "join": ("join", "end", "a,b", "", None, False),
        "end": ("end", "", "join", "", None, False),
    },
    "nested_branch_flow": {
        "start": ("split", "a,b", "", "", "join", False),
        "a": ("split", "a1,a2", "start", "start", "join_a", False),
        "a1": ("linear", "join_a", "a", "start,a", None, False),
        "a2": ("linear", "join_a", "a", "start,a", None, False),
        "join_a": ("join", "join", "a1,a2", "start", None, False),
        "b": ("linear", "join", "start", "start", None, False),
        "join": ("join", "end", "join_a,b", "", None, False),
        "end": ("end", "", "join", "", None, False),
    },
    "foreach_flow": {
        "start": ("foreach", "square", "", "", "join", False),
        "square": ("linear", "join", "start", "start", None, True),
        "join": ("join", "end", "square", "", None, False),
        "end": ("end", "", "join", "", None, False),
    },
    "nested_foreach_flow": {
        "start": ("foreach", "outer", "", "", "join_outer", False),
        "outer": ("foreach", "inner", "start", "start", "join_inner", True),
        "inner": ("linear", "join_inner", "outer", "start,outer", None, True),
        "join_inner": ("join", "join_outer", "inner", "start", None, True),
        "join_outer": ("join", "end", "join_inner", "", None, False),
        "end": ("end", "", "join_outer", "", None, False),
    },
    "foreach_in_branch_flow": {
        "start": ("split", "numbers,letters", "", "", "join", False),
        "numbers": ("foreach", "triple", "start", "start", "join_numbers", False),
        "triple": ("linear", "join_numbers", "numbers", "start,numbers", None, True),
        "join_numbers": ("join", "join", "triple", "start", None, False),
        "letters": ("linear", "join", "start", "start", None, False),
        "join": ("join", "end", "join_numbers,letters", "", None, False),
        "end": ("end", "", "join", "", None, False),
    },
    "branch_in_foreach_flow": {
        "start": ("foreach", "body", "", "", "join_foreach", False),
        "body": ("split", "plus_one,times_two", "start", "start", "join_branch", True),
        "plus_one": ("linear", "join_branch", "body", "start,body", None, True),
        "times_two": ("linear", "join_branch", "body", "start,body", None, True),
        "join_branch": ("join", "join_foreach", "plus_one,times_two", "start", None, True),
        "join_foreach": ("join", "end", "join_branch", "", None, False),
        "end": ("end", "", "join_foreach", "", None, False),
    },
    "switch_flow": {
        "start": ("switch", "fast,slow", "", "", None, False),
        "fast": ("linear", "finish", "start", "", None, False),
        "slow": ("linear", "finish", "start", "", None, False),
        "finish": ("linear", "end", "fast,slow", "", None, False),
        "end": ("end", "", "finish", "", None, False),
    },
    "switch_in_branch_flow": {
        "start": ("split", "plain,routed", "", "", "join", False),
        "plain": ("linear", "join", "start", "start", None, False),
        "routed": ("switch", "big,small", "start", "start", None, False),
        "big": ("linear", "merge_point", "routed", "start", None, False),
        "small": ("linear", "merge_point", "routed", "start", None, False),
        "merge_point": ("linear", "join", "big,small", "start", None, False),
        "join": ("join", "end", "plain,merge_point", "", None, False),
        "end": ("end", "", "join", "", None, False),
    },
    "recursion_flow": {
        "start": ("linear", "loop", "", "", None, False),
        "loop": ("switch", "loop,end", "start,loop", "", None, False),
        "end": ("end", "", "loop", "", None, False),
    },
    "loop_back_flow": {
        "start": ("linear", "attempt", "", "", None, False),
        "attempt": ("linear", "check", "start,check", "", None, False),
        "check": ("switch", "attempt,end", "attempt", "", None, False),
        "end": ("end", "", "check", "", None, False),
    },
    "parallel_flow": {
        "start": ("parallel", "train", "", "", "join", False),
        "train": ("linear", "join", "start", "start", None, True),
        "join": ("join", "end", "train", "", None, False),
        "end": ("end", "", "join", "", None, False),
    },
    "markers_flow": {
        "begin": ("linear", "middle", "", "", None, False),
        "middle": ("linear", "finish", "begin", "", None, False),
        "finish": ("end", "", "middle", "", None, False),
    },
    "merge_artifacts_flow": {
        "start": ("split", "left,right", "", "", "join", False),
        "left": ("linear", "join", "start", "start", None, False),
        "right": ("linear", "join", "start", "start", None, False),
        "join": ("join", "end", "left,right", "", None, False),
        "end": ("end", "", "join", "", None, False),
    },
    "foreach_iterables_flow": {
        "start": ("foreach", "over_set", "", "", "join_set", False),
        "over_set": ("linear", "join_set", "start", "start", None, True),
        "join_set": ("join", "make_generator", "over_set", "", None, False),
        "make_generator": ("foreach", "over_generator", "join_set", "", "join_generator", False),
        "over_generator": (
            "linear", "join_generator", "make_generator", "make_generator", None, True
        ),
        "join_generator": ("join", "make_view", "over_generator", "", None, False),
        "make_view": ("foreach", "over_view", "join_generator", "", "join_view", False),
        "over_view": ("linear", "join_view", "make_view", "make_view", None, True),
        "join_view": ("join", "end", "over_view", "", None, False),
        "end": ("end", "", "join_view", "", None, False),
    },
    "parameters_flow": {
        "start": ("linear", "end", "", "", None, False),
        "end": ("end", "", "start", "", None, False),
    },
    "inherited_flow": {
        "start": ("linear", "end", "", "", None, False),
        "end": ("end", "", "start", "", None, False),
    },
}  # fmt: skip


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split(",")) if text else ()


def test_every_shape_file_has_expectations() -> None:
    files = {p.stem for p in SHAPES.glob("*_flow.py")}
    assert len(files) >= 16
    assert files - {"chain20_flow", "typed_artifacts_flow"} == set(EXPECTED_GRAPHS)


@pytest.mark.parametrize("name", sorted(EXPECTED_GRAPHS))
def test_shape_graph(name: str) -> None:
    graph = build_graph(load_flow_class(SHAPES / f"{name}.py"))
    assert lint(graph) == []
    assert list(graph.nodes) == list(EXPECTED_GRAPHS[name])
    for step, (kind, outs, ins, parents, join, in_foreach) in EXPECTED_GRAPHS[name].items():
        node = graph[step]
        got = (node.kind, node.out_steps, node.in_steps, node.split_parents)
        assert got == (kind, _split(outs), _split(ins), _split(parents)), step
        assert node.matching_join == join, step
        assert node.in_foreach is in_foreach, step
        if join is not None:
            assert graph[join].closes == step


@pytest.mark.parametrize("name", sorted(EXPECTED_GRAPHS))
def test_every_shape_flow_declares_expected_values(name: str) -> None:
    module = sys.modules[load_flow_class(SHAPES / f"{name}.py").__module__]
    assert isinstance(module.EXPECTED, dict) and module.EXPECTED
    assert "\nExpected" in (module.__doc__ or "")


def test_foreach_var_switch_cases_and_parallel(shape) -> None:
    foreach = build_graph(shape("foreach_flow"))
    assert foreach["start"].foreach_var == "items"
    assert foreach["start"].transition == "foreach"
    switch = build_graph(shape("switch_flow"))
    assert switch["start"].condition == "route"
    assert switch["start"].switch_cases == {"fast": "fast", "slow": "slow"}
    assert switch["finish"].is_join is False
    par = build_graph(shape("parallel_flow"))
    assert par["start"].num_parallel == 3
    assert par["train"].is_parallel_step is True
    assert par["start"].is_parallel_step is False


def test_recursion_back_edges_and_topological_order(shape) -> None:
    graph = build_graph(shape("recursion_flow"))
    assert graph.back_edges == {("loop", "loop")}
    assert graph["loop"].switch_cases == {"again": "loop", "done": "end"}
    loop_back = build_graph(shape("loop_back_flow"))
    assert loop_back.back_edges == {("check", "attempt")}
    assert [n.name for n in loop_back.sorted_nodes()] == ["start", "attempt", "check", "end"]


def test_sorted_nodes_is_topological(shape) -> None:
    graph = build_graph(shape("nested_branch_flow"))
    order = [n.name for n in graph.sorted_nodes()]
    assert order == ["start", "a", "a1", "a2", "join_a", "b", "join", "end"]
    position = {name: i for i, name in enumerate(order)}
    for src, dst in graph.edges():
        assert position[src] < position[dst]


def test_markers_choose_start_and_end(shape) -> None:
    graph = build_graph(shape("markers_flow"))
    assert (graph.start, graph.end) == ("begin", "finish")
    assert graph["begin"].is_start and graph["finish"].is_end
    assert not graph["middle"].is_start and not graph["middle"].is_end


def test_chain20_is_twenty_linear_steps(shape) -> None:
    graph = build_graph(shape("chain20_flow"))
    order = [n.name for n in graph.sorted_nodes()]
    assert len(order) == 20
    assert order[0] == "start" and order[-1] == "end"
    assert order == list(graph.nodes)
    assert {n.kind for n in graph} == {"linear", "end"}


def test_node_records_source_location_doc_and_decorators(shape) -> None:
    flow = shape("linear_flow")
    graph = build_graph(flow)
    source = (SHAPES / "linear_flow.py").read_text().splitlines()
    double = graph["double"]
    assert double.file == str(SHAPES / "linear_flow.py")
    assert source[double.line - 1].strip() == "def double(self):"
    assert source[double.next_line - 1].strip() == "self.next(self.square)"
    assert double.doc == "Double it."
    assert double.decorator_names == ("retry",)
    assert double.decorator("retry").times == 2
    assert graph["square"].decorator("resources").memory == 512
    assert graph["start"].decorators == ()
    assert graph.doc == "Doubles a number, squares it, and adds the original back."
    assert graph.flow_name == "LinearFlow"


def test_graph_container_protocol(shape) -> None:
    graph = build_graph(shape("branch_flow"))
    assert "join" in graph and "nope" not in graph
    assert [n.name for n in graph] == ["start", "a", "b", "join", "end"]
    assert len(graph) == 5
    with pytest.raises(KeyError):
        graph["nope"]
