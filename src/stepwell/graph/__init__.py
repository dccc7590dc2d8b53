"""The static graph of a flow, and the linter that checks it.

The graph is derived from the flow's *source*: each ``@step`` method is read
with ``inspect`` and parsed with ``ast`` (signature, docstring, and the
``self.next(...)`` call that must be its last statement). Nothing in a step
runs. Decorators are read from what ``flow/`` recorded on each function.

Rules kept by the modules here:

* ``build_graph`` never raises for an invalid flow (only when the source
  cannot be read); ``lint`` reports every problem as a :class:`Finding`
  with the file and line of the offending step and one fix.
* The graph is plain data (:class:`FlowGraph`, :class:`StepNode`) that the
  runtime, the CLI (``show``, ``output-dot``, ``check``) and deployers read.
* This layer imports only ``flow``, ``decorators``, ``exceptions`` and lower.
"""

from stepwell.graph._build import build_graph
from stepwell.graph._findings import Finding
from stepwell.graph._lint import RESERVED_STEP_NAMES, check_flow, lint
from stepwell.graph._nodes import KINDS, FlowGraph, StepNode
from stepwell.graph._render import render_dot, render_text

__all__ = [
    "KINDS",
    "RESERVED_STEP_NAMES",
    "Finding",
    "FlowGraph",
    "StepNode",
    "build_graph",
    "check_flow",
    "lint",
    "render_dot",
    "render_text",
]
