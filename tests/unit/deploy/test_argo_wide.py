"""A foreach's width is a run-time value: 10,000 splits compile to the manifest of 3."""

from __future__ import annotations

import json

from argo_helpers import FLOWS, compile_file, task


def test_a_10000_wide_foreach_compiles_to_the_same_documents_as_a_3_wide_one() -> None:
    narrow = compile_file(FLOWS / "argo_wide_3_flow.py")
    wide = compile_file(FLOWS / "argo_wide_10000_flow.py")
    assert wide == narrow
    text = json.dumps(wide)
    assert "10000" not in text and "withItems" not in text
    (doc,) = wide
    work = task(doc, "main", "work")
    assert work["withParam"] == "{{tasks.start.outputs.parameters.splits}}"
    assert len(text) < 10_000  # a few kilobytes, whatever the width
