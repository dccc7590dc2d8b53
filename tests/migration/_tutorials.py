"""Metaflow's published tutorials, fetched from its wheel and given stepwell's import.

The tutorials are Metaflow's code: they are never committed here. `scripts/test.sh` runs
this file once (`python tests/migration/_tutorials.py`), which downloads the pinned wheel
into `.venv/metaflow-tutorials/` (ignored by git, reused by the next run); the tests then
extract `metaflow/tutorials/` from the zip into pytest's temporary directory and change
only the import lines, as a user moving to stepwell would.

The version is pinned because the tutorial text (flows, READMEs, notebooks) is the
specification under test: a new Metaflow release must not change what we check without
someone reading the difference. To move the pin, change METAFLOW_VERSION and WHEEL_SHA256
together (`pip download metaflow==X --no-deps` and `sha256sum` the wheel).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

METAFLOW_VERSION = "2.19.39"
WHEEL_NAME = f"metaflow-{METAFLOW_VERSION}-py2.py3-none-any.whl"
WHEEL_SHA256 = "403b110f2975a7eaf29d97909459b2c5afd1508b0779b464e6fe13d15aae6c0e"
REPO = Path(__file__).resolve().parents[2]
CACHE_DIR = REPO / ".venv" / "metaflow-tutorials"
WHEEL = CACHE_DIR / WHEEL_NAME
REQUIRE_VARS = ("CI", "STEPWELL_REQUIRE_TUTORIALS")

# `from metaflow import X` / `from metaflow.sub import X` (also indented, inside a step),
# and `import metaflow` (kept usable under its old name: `import stepwell as metaflow`).
_FROM_IMPORT = re.compile(r"^(\s*)from metaflow(\.|\s)", re.MULTILINE)
_PLAIN_IMPORT = re.compile(r"^(\s*)import metaflow\s*$", re.MULTILINE)


def fetch(python: str = sys.executable) -> str | None:
    """Download the pinned wheel into CACHE_DIR unless it is there; an error text or None."""
    if wheel_problem() is None:
        return None
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    argv = [python, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
    argv += ["-d", str(CACHE_DIR), f"metaflow=={METAFLOW_VERSION}"]
    out = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)
    if out.returncode != 0:
        return f"pip download metaflow=={METAFLOW_VERSION} failed: {out.stderr.strip()[-500:]}"
    return wheel_problem()


def wheel_problem() -> str | None:
    """Why the cached wheel cannot be used (missing, or not the pinned file), or None."""
    if not WHEEL.is_file():
        return f"{WHEEL} is missing"
    digest = hashlib.sha256(WHEEL.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        return f"{WHEEL} has sha256 {digest}, expected {WHEEL_SHA256} (pinned)"
    return None


def extract(wheel: Path, dest: Path) -> Path:
    """Extract metaflow/tutorials/ from the wheel into dest; the tutorials folder."""
    prefix = "metaflow/tutorials/"
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.startswith(prefix) and not name.endswith("/"):
                archive.extract(name, dest)
    return dest / "metaflow" / "tutorials"


def change_import(source: str) -> tuple[str, int]:
    """The one edit a user makes: metaflow -> stepwell in import lines; (text, lines changed)."""
    source, n_from = _FROM_IMPORT.subn(r"\1from stepwell\2", source)
    source, n_plain = _PLAIN_IMPORT.subn(r"\1import stepwell as metaflow", source)
    return source, n_from + n_plain


def convert_tree(root: Path) -> dict[Path, int]:
    """Change the import in every tutorial .py file under root; lines changed per file."""
    changed = {}
    for path in sorted(root.rglob("*.py")):
        text, n = change_import(path.read_text())
        path.write_text(text)
        changed[path] = n
    return changed


def notebook_cells(notebook: Path) -> list[str]:
    """The code cells of a notebook (nbformat 4 JSON), in order, imports changed."""
    cells = json.loads(notebook.read_text())["cells"]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    return [change_import(text)[0] for text in sources]


if __name__ == "__main__":
    problem = fetch()
    if problem:
        print(
            f"Metaflow's tutorials not fetched ({problem}): tests/migration will fail "
            "in CI and skip elsewhere.",
            file=sys.stderr,
        )
