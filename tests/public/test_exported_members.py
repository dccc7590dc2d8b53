"""The public API is exactly ``stepwell.__all__``, and every name in it resolves."""

from __future__ import annotations

import subprocess
import sys

import stepwell

METAFLOW_NAMES = {
    "FlowSpec", "step", "Parameter", "JSONType", "IncludeFile", "Config", "current",
    "retry", "catch", "timeout", "resources", "environment", "card", "parallel", "pypi",
    "pypi_base", "secrets", "project", "schedule", "trigger", "trigger_on_finish", "S3",
}  # fmt: skip


def test_all_names_resolve() -> None:
    for name in stepwell.__all__:
        assert getattr(stepwell, name) is not None, name


def test_metaflow_authoring_names_are_exported() -> None:
    assert set(stepwell.__all__) >= METAFLOW_NAMES


def test_dir_matches_all() -> None:
    assert sorted(stepwell.__all__) == dir(stepwell)


def test_unknown_name_is_an_attribute_error() -> None:
    try:
        stepwell.NoSuchThing  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("stepwell.NoSuchThing should not exist")


def test_import_is_lazy_and_has_no_side_effects(tmp_path) -> None:
    code = (
        "import sys, stepwell\n"
        "heavy = [m for m in ('stepwell.runtime', 'stepwell.store', 'stepwell.metadata',"
        " 'stepwell.data', 'obstore', 'click', 'rich', 'numpy') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert out.stdout.strip() == "[]"
    assert list(tmp_path.iterdir()) == []
