"""The flow graph as inline SVG: layers by topological depth, this step highlighted."""

from __future__ import annotations

from typing import Any

from stepwell.cards._html import esc

_W, _H = 150, 34  # node box
_GAP_X, _GAP_Y = 30, 40
_PAD = 12


def layers(graph: Any) -> list[list[str]]:
    """Step names by depth: a step sits one layer below its deepest (forward) parent."""
    depth: dict[str, int] = {}
    back: frozenset[tuple[str, str]] = getattr(graph, "back_edges", frozenset())
    for node in graph.sorted_nodes():
        parents = [p for p in node.in_steps if p in depth and (p, node.name) not in back]
        depth[node.name] = 1 + max((depth[p] for p in parents), default=-1)
    result: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for name, level in depth.items():
        result[level].append(name)
    return result


def render_graph_svg(graph: Any, highlight: str | None = None) -> str:
    """An ``<svg>`` of ``graph`` (a :class:`stepwell.graph.FlowGraph`), ``highlight`` marked."""
    rows = layers(graph)
    widest = max((len(row) for row in rows), default=1)
    width = _PAD * 2 + widest * _W + (widest - 1) * _GAP_X
    height = _PAD * 2 + len(rows) * _H + max(len(rows) - 1, 0) * _GAP_Y
    where: dict[str, tuple[float, float]] = {}
    for level, row in enumerate(rows):
        row_width = len(row) * _W + (len(row) - 1) * _GAP_X
        left = (width - row_width) / 2
        for position, name in enumerate(row):
            where[name] = (left + position * (_W + _GAP_X), _PAD + level * (_H + _GAP_Y))
    edges = [_edge(where[a], where[b]) for a, b in graph.edges() if a in where and b in where]
    nodes = [_node(name, xy, graph[name].kind, name == highlight) for name, xy in where.items()]
    marker = (
        '<defs><marker id="sw-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#656d76"/>'
        "</marker></defs>"
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="flow graph">'
        + marker
        + "".join(edges)
        + "".join(nodes)
        + "</svg>"
    )


def _edge(src: tuple[float, float], dst: tuple[float, float]) -> str:
    x1, y1 = src[0] + _W / 2, src[1] + _H
    x2, y2 = dst[0] + _W / 2, dst[1]
    if y2 <= y1:  # a back edge (recursion through a switch): go round the side
        x1, y1, x2, y2 = src[0] + _W, src[1] + _H / 2, dst[0] + _W, dst[1] + _H / 2
        path = (
            f"M{x1:.0f},{y1:.0f} C{x1 + 40:.0f},{y1:.0f} {x2 + 40:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"
        )
    else:
        path = f"M{x1:.0f},{y1:.0f} L{x2:.0f},{y2:.0f}"
    return f'<path class="sw-edge" d="{path}" marker-end="url(#sw-arrow)"/>'


def _node(name: str, xy: tuple[float, float], kind: str, here: bool) -> str:
    x, y = xy
    css = "sw-node sw-here" if here else "sw-node"
    label = name if len(name) <= 20 else name[:19] + "…"
    return (
        f'<g class="{css}" data-step="{esc(name)}"><title>{esc(name)} ({esc(kind)})</title>'
        f'<rect x="{x:.0f}" y="{y:.0f}" width="{_W}" height="{_H}" rx="6"/>'
        f'<text x="{x + _W / 2:.0f}" y="{y + _H / 2 + 4:.0f}" text-anchor="middle">'
        f"{esc(label)}</text></g>"
    )
