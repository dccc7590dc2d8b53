"""A foreach's width is a run-time value: 10,000 splits compile to the manifest of 3."""

from __future__ import annotations

import json
from pathlib import Path

from argo_helpers import compile_file, task

SOURCE = (Path(__file__).parents[2] / "deploy" / "flows" / "argo_wide_flow.py").read_text()


def _flow(folder: Path, width: str) -> Path:
    """The fixture flow with its foreach over ``width`` items, in a folder of its own."""
    folder.mkdir()
    path = folder / "argo_wide_flow.py"
    path.write_text(SOURCE.replace("list(range(3))", f"list(range({width}))"))
    return path


def test_a_10000_wide_foreach_compiles_to_the_same_documents_as_a_3_wide_one(
    tmp_path: Path,
) -> None:
    narrow = compile_file(_flow(tmp_path / "narrow", "3"))
    wide_flow = _flow(tmp_path / "wide", "10_000")
    assert "range(10_000)" in wide_flow.read_text()
    wide = compile_file(wide_flow)
    assert wide == narrow
    text = json.dumps(wide)
    assert "10000" not in text and "withItems" not in text
    (doc,) = wide
    work = task(doc, "main", "work")
    assert work["withParam"] == "{{tasks.start.outputs.parameters.splits}}"
    assert len(text) < 10_000  # a few kilobytes, whatever the width
