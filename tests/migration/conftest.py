"""Metaflow's tutorials, run as their READMEs say, in one store shared by this folder's tests.

The episodes build on each other (03 and 04 read 02's results through the Client), so the
runs are session fixtures: each episode's commands run once, in the README's order, in one
STEPWELL_HOME under pytest's temporary directory, and any test can depend on them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from . import _tutorials

TIMEOUT = 180  # seconds per command; each tutorial runs in well under a second here


@dataclass(frozen=True)
class Command:
    """One command a user typed, and what they saw."""

    argv: str
    returncode: int
    stdout: str
    stderr: str

    def explain(self) -> str:
        tail = "\n".join((self.stdout + self.stderr).splitlines()[-25:])
        return f"`{self.argv}` exited with {self.returncode}:\n{tail}"


@dataclass
class Tutorials:
    """The tutorials folder ('cd metaflow-tutorials') and the store their runs share."""

    root: Path
    home: Path
    changed: dict[Path, int]
    env: dict[str, str] = field(default_factory=dict)

    def python(self, *args: str) -> Command:
        """`python ARGS...` from the tutorials folder, as the READMEs have it."""
        out = subprocess.run(
            [sys.executable, *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        return Command("python " + " ".join(args), out.returncode, out.stdout, out.stderr)


def _user_environment(home: Path) -> dict[str, str]:
    """The caller's environment minus their stepwell/Metaflow settings, with a private store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STEPWELL_", "METAFLOW_"))}
    env.update(STEPWELL_HOME=str(home), STEPWELL_USER="tester", MPLBACKEND="Agg")
    return env


@pytest.fixture(scope="session")
def tutorials(tmp_path_factory: pytest.TempPathFactory) -> Tutorials:
    """The pinned wheel's tutorials, extracted into a temporary folder, imports changed."""
    problem = _tutorials.wheel_problem()
    if problem:
        how = "run scripts/test.sh, or: python tests/migration/_tutorials.py"
        message = f"Metaflow's tutorials are not available: {problem}. To fetch them, {how}."
        if any(os.environ.get(name) for name in _tutorials.REQUIRE_VARS):
            pytest.fail(message + " (required: CI or STEPWELL_REQUIRE_TUTORIALS is set)")
        pytest.skip(message)
    base = tmp_path_factory.mktemp("tutorials")
    root = _tutorials.extract(_tutorials.WHEEL, base)
    changed = _tutorials.convert_tree(root)
    home = base / "stepwell-home"
    return Tutorials(root, home, changed, _user_environment(home))


@pytest.fixture
def tutorial_client(tutorials: Tutorials, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point this test's Client at the tutorials' store (after the per-test private one)."""
    from stepwell.client import reset_client

    monkeypatch.setenv("STEPWELL_HOME", str(tutorials.home))
    reset_client()
    yield
    reset_client()


def _episode(tutorials: Tutorials, *commands: tuple[str, ...]) -> list[Command]:
    return [tutorials.python(*argv) for argv in commands]


@pytest.fixture(scope="session")
def episode_00(tutorials: Tutorials) -> list[Command]:
    script = "00-helloworld/helloworld.py"
    return _episode(tutorials, (script, "show"), (script, "run"))


@pytest.fixture(scope="session")
def episode_01(tutorials: Tutorials) -> list[Command]:
    script = "01-playlist/playlist.py"
    return _episode(
        tutorials, (script, "show"), (script, "run"), (script, "run", "--genre", "comedy")
    )


@pytest.fixture(scope="session")
def episode_02(tutorials: Tutorials) -> list[Command]:
    script = "02-statistics/stats.py"
    return _episode(tutorials, (script, "show"), (script, "run"))


@pytest.fixture(scope="session")
def episode_03(tutorials: Tutorials, episode_02: list[Command]) -> list[Command]:
    script = "03-playlist-redux/playlist.py"  # README: "Run 'Episode 02-statistics' first"
    return _episode(tutorials, (script, "show"), (script, "run"))


@pytest.fixture(scope="session")
def episode_04(tutorials: Tutorials, episode_02: list[Command]) -> list[Command]:
    script = "04-playlist-plus/playlist.py"
    conda = "--environment=conda"
    return _episode(
        tutorials,
        (script, conda, "show"),
        (script, conda, "run"),
        (script, conda, "run", "--hint", "Data Science Strikes Back"),
    )


@pytest.fixture(scope="session")
def episode_05(tutorials: Tutorials) -> list[Command]:
    return _episode(tutorials, ("05-hello-cloud/hello-cloud.py", "run"))


@pytest.fixture(scope="session")
def episode_06(tutorials: Tutorials, episode_02: list[Command]) -> list[Command]:
    # 06's README re-runs 02's flow on Kubernetes: here --with kubernetes runs it locally.
    argv = ("02-statistics/stats.py", "run", "--with", "kubernetes", "--max-workers", "4")
    return _episode(tutorials, argv)
