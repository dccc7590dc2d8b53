"""Helpers for the graph tests: load fixture flows from tests/flows/."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from stepwell.flow import FlowSpec, load_flow_class

FLOWS = Path(__file__).resolve().parents[2] / "flows"
SHAPES = FLOWS / "shapes"
LINT = FLOWS / "lint"


@pytest.fixture
def shape() -> Callable[[str], type[FlowSpec]]:
    """Load a flow from tests/flows/shapes/<name>.py."""

    def load(name: str) -> type[FlowSpec]:
        return load_flow_class(SHAPES / f"{name}.py")

    return load


def marked_lines(path: Path) -> list[tuple[int, str]]:
    """(line, text after the marker) for every line carrying a ``# LINT`` comment."""
    found = []
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        if "# LINT" in text:
            found.append((number, text.split("# LINT", 1)[1].strip()))
    return found


FlowFactory = Callable[[str], type[FlowSpec]]


@pytest.fixture
def flow_from_source(tmp_path: Path) -> FlowFactory:
    """Write a flow's source to a file under tmp_path (inspect needs a file) and load it."""
    counter = iter(range(1_000_000))

    def load(source: str) -> type[FlowSpec]:
        path = tmp_path / f"flow_{next(counter)}.py"
        path.write_text("from stepwell import FlowSpec, parallel, step\n" + textwrap.dedent(source))
        return load_flow_class(path)

    return load
