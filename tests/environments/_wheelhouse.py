"""Download, once, the real wheels the @pypi tests serve from their index on 127.0.0.1.

Run by scripts/test.sh (CI) before pytest: ``python tests/environments/_wheelhouse.py``.
What stepwell's task worker needs in every environment (its own requirements and the S3
extra's), and
two releases of one small package the base environment lacks (tomli-w 1.0.0 and 1.1.0),
for this interpreter and for Python 3.12, into .venv/pypi-wheelhouse/ (never committed).
The tests read only that folder: no test reaches PyPI.
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WHEELHOUSE = ROOT / ".venv" / "pypi-wheelhouse"
PACKAGES = ("tomli-w==1.0.0",)
SECOND_RELEASES = ("tomli-w==1.1.0",)  # a conflicting version, for two steps of one run
OTHER_PYTHON = "3.12"  # a step with @pypi(python="3.12"), where this machine has that Python
DONE = WHEELHOUSE / ".complete"


def runtime_requirements() -> list[str]:
    """stepwell's requirements, and the S3 extra's (a @pypi step on the S3 datastore)."""
    declared = metadata.requires("stepwell") or []
    wanted = []
    for line in declared:
        requirement, _, marker = line.partition(";")
        extra = marker.split("extra ==")[-1].strip(" '\"") if "extra" in marker else None
        if extra in (None, "s3"):
            wanted.append(requirement.strip())
    return wanted


def main() -> int:
    wanted = "\n".join([*runtime_requirements(), *PACKAGES, *SECOND_RELEASES, OTHER_PYTHON])
    if DONE.exists() and DONE.read_text() == wanted:
        return 0
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary", ":all:",
           "--dest", str(WHEELHOUSE)]  # fmt: skip
    steps = [
        [*pip, *runtime_requirements(), *PACKAGES],
        [*pip, "--no-deps", *SECOND_RELEASES],
        [*pip, "--python-version", OTHER_PYTHON, *runtime_requirements(), *PACKAGES],
    ]
    for argv in steps:
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            print(f"could not download the @pypi test wheels:\n{result.stderr}", file=sys.stderr)
            return 1
    DONE.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
