"""The code package: the flow's directory, reproducibly, without what does not belong."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

from stepwell.runtime._package import build_package


def _tree(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "flow.py").write_text("class F: pass\n")
    (root / "pkg" / "helpers.py").write_text("X = 1\n")
    (root / "notes.txt").write_text("not code")
    for skipped in (".git", "__pycache__", "node_modules", "venv"):
        (root / skipped).mkdir()
        (root / skipped / "x.py").write_text("skipped\n")
    (root / "venv" / "pyvenv.cfg").write_text("home = /usr\n")
    return root / "flow.py"


def test_the_package_holds_the_flows_python_files_and_info(tmp_path: Path) -> None:
    flow = _tree(tmp_path)
    with tarfile.open(fileobj=io.BytesIO(build_package(str(flow), "F", "1.0"))) as tar:
        assert sorted(tar.getnames()) == ["INFO", "flow.py", "pkg/helpers.py"]
        info = json.loads(tar.extractfile("INFO").read())  # type: ignore[union-attr]
    assert info == {"flow_name": "F", "script": "flow.py", "stepwell_version": "1.0"}


def test_identical_code_gives_identical_bytes_and_a_change_does_not(tmp_path: Path) -> None:
    flow = _tree(tmp_path / "a")
    first = build_package(str(flow), "F", "1.0")
    (tmp_path / "a" / "notes.txt").write_text("touched, not packaged")
    assert build_package(str(flow), "F", "1.0") == first
    (tmp_path / "a" / "pkg" / "helpers.py").write_text("X = 2\n")
    assert build_package(str(flow), "F", "1.0") != first
