"""Apache Airflow 3 in a virtual environment of its own, for the Airflow tests (tests/deploy).

Run by scripts/test.sh (CI) before pytest: ``python tests/deploy/_airflow_env.py``. It makes
``.venv/airflow-venv`` (never stepwell's ``.venv``: Airflow pins ~150 packages of its own)
with apache-airflow, the cncf.kubernetes provider (so Airflow itself imports the generated
KubernetesPodOperator DAGs) and stepwell installed editable from this checkout (the DAG's
tasks run ``stepwell task``). Once: a marker records what was installed, and a later run with
the same pins, Python and stepwell requirements does nothing.

Why the versions are pinned (airflow-constraints.txt, next to this file): Airflow's published
constraint files cannot be reached from here, and an unpinned install resolves ~150 packages
anew every time, so a release of any of them could break these tests with no change of ours.
The file is one resolution (a plain install, then ``pip freeze``), committed. To move it:
``python tests/deploy/_airflow_env.py --resolve``, then run the tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV = REPO / ".venv" / "airflow-venv"
CONSTRAINTS = Path(__file__).with_name("airflow-constraints.txt")
REQUIREMENTS = ("apache-airflow==3.3.2", "apache-airflow-providers-cncf-kubernetes")
MARKER = VENV / ".stepwell-complete"
REQUIRE_VARS = ("CI", "STEPWELL_REQUIRE_AIRFLOW")


def bin_dir() -> Path:
    """The environment's ``bin``: ``airflow``, ``python`` and ``stepwell``."""
    return VENV / "bin"


def required() -> bool:
    """CI (or STEPWELL_REQUIRE_AIRFLOW): a missing environment fails the tests, never skips them."""
    return any(os.environ.get(name) for name in REQUIRE_VARS)


def problem() -> str | None:
    """Why the environment cannot be used (missing, or not what the pins say), or None."""
    if not (bin_dir() / "airflow").exists():
        return f"{VENV} has no airflow: run `python tests/deploy/_airflow_env.py`"
    if not MARKER.exists() or MARKER.read_text() != _wanted():
        return f"{VENV} is not the pinned one: run `python tests/deploy/_airflow_env.py`"
    return None


def _wanted() -> str:
    """What the marker must say: the pins, this Python, stepwell's own requirements."""
    text = (REPO / "pyproject.toml").read_text()
    try:
        import tomllib

        stepwell = tomllib.loads(text)["project"]["dependencies"]
    except ImportError:  # Python 3.10: any change of pyproject.toml makes it anew
        stepwell = text
    return json.dumps(
        {
            "requirements": REQUIREMENTS,
            "constraints": CONSTRAINTS.read_text() if CONSTRAINTS.exists() else "",
            "python": sys.version.split()[0],
            "stepwell": stepwell,
        },
        sort_keys=True,
    )


def _pip(python: Path, *args: str) -> str | None:
    """``python -m pip install --quiet ARGS``; the error text, or None."""
    argv = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=900)
    if done.returncode == 0:
        return None
    lines = [x for x in done.stderr.splitlines() if not x.startswith("WARNING: Location")]
    return "\n".join(lines)[-2000:]


def _new_venv(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, capture_output=True)


def install() -> str | None:
    """Make the environment unless it is there; an error text, or None."""
    if problem() is None:
        return None
    if not CONSTRAINTS.exists():
        return f"{CONSTRAINTS} is missing: run with --resolve once"
    _new_venv(VENV)
    error = _pip(VENV / "bin" / "python", "-c", str(CONSTRAINTS), *REQUIREMENTS, "-e", str(REPO))
    if error:
        return f"installing Airflow into {VENV} failed:\n{error}"
    MARKER.write_text(_wanted())
    return None


def resolve() -> str | None:
    """Resolve the requirements anew (no constraints) and write them as the pins."""
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "venv"
        _new_venv(venv)
        python = venv / "bin" / "python"
        error = _pip(python, *REQUIREMENTS, "-e", str(REPO))
        if error:
            return f"resolving {' '.join(REQUIREMENTS)} failed:\n{error}"
        frozen = subprocess.run(
            [str(python), "-m", "pip", "freeze", "--exclude-editable",
             "--disable-pip-version-check"], capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    header = (
        "# Airflow's test environment (tests/deploy/_airflow_env.py), resolved once and pinned:\n"
        "# Airflow's own constraint files cannot be reached here, and ~150 unpinned packages\n"
        "# would be resolved anew on every install. Regenerate with\n"
        "# `python tests/deploy/_airflow_env.py --resolve`.\n"
        f"# Resolved for {' '.join(REQUIREMENTS)} on Python {sys.version.split()[0]}.\n"
    )
    CONSTRAINTS.write_text(header + frozen)
    return None


if __name__ == "__main__":
    failed = resolve() if "--resolve" in sys.argv[1:] else None
    failed = failed or install()
    if failed:
        print(
            f"Airflow's test environment not made ({failed}).\n"
            "tests/deploy's Airflow tests will fail in CI and skip elsewhere.",
            file=sys.stderr,
        )
