"""The tutorials' notebooks that use only the Client API, run as one script after their flows.

The code cells are read from the notebook JSON (no Jupyter needed), the import changed as
in the flows, and run in order with `python`, in the store the flows wrote.

Plotting: 02 and 06 draw with matplotlib (a dev dependency: it runs, with the Agg backend);
08 draws with plotly, which is not installed, so cells using a missing plotting library
are dropped with its import line. Notebook 08 is not run at all: it reads a run made by
`argo-workflows create/trigger` on an Argo cluster, from a run id pasted by hand.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from . import _tutorials
from .conftest import TIMEOUT, Command, Tutorials

# Plotting library -> the name the notebooks import it as.
PLOTTING = {"matplotlib": "plt", "plotly": "ff"}


def _runnable(cell: str) -> str | None:
    """The cell without a missing plotting library's import; None when it plots with one."""
    for library, alias in PLOTTING.items():
        if importlib.util.find_spec(library) is not None:
            continue
        if re.search(rf"\b{alias}\.", cell):
            return None
        cell = re.sub(rf"^\s*import {library}\b.*$", "", cell, flags=re.MULTILINE)
    return cell


def _run_notebook(tutorials: Tutorials, notebook: str, tmp_path: Path) -> Command:
    cells = [_runnable(c) for c in _tutorials.notebook_cells(tutorials.root / notebook)]
    script = tmp_path / (Path(notebook).stem + "_notebook.py")
    script.write_text("\n\n".join(c for c in cells if c is not None))
    out = subprocess.run(
        [sys.executable, str(script)],
        cwd=tutorials.root,
        env=tutorials.env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    return Command(f"python {script.name} ({notebook})", out.returncode, out.stdout, out.stderr)


def test_01_notebook_lists_the_playlists(
    tutorials: Tutorials, episode_01: list[Command], tmp_path: Path
) -> None:
    out = _run_notebook(tutorials, "01-playlist/playlist.ipynb", tmp_path)
    assert out.returncode == 0, out.explain()
    assert "Using run: Run('PlayListFlow/" in out.stdout
    assert "Playlist for movies in genre 'comedy'" in out.stdout  # cell 7: every run
    assert "Bonus Pick: '" in out.stdout and "Top Pick: '" in out.stdout


def test_02_notebook_reads_the_statistics(
    tutorials: Tutorials, episode_02: list[Command], tmp_path: Path
) -> None:
    out = _run_notebook(tutorials, "02-statistics/stats.ipynb", tmp_path)
    assert out.returncode == 0, out.explain()
    assert "Using run: Run('MovieStatsFlow/" in out.stdout


def test_05_notebook_reads_the_message_from_the_cloud(
    tutorials: Tutorials, episode_05: list[Command], tmp_path: Path
) -> None:
    out = _run_notebook(tutorials, "05-hello-cloud/hello-cloud.ipynb", tmp_path)
    assert out.returncode == 0, out.explain()
    assert "Hi from the cloud!" in out.stdout.splitlines()


def test_06_notebook_reads_the_included_csv(
    tutorials: Tutorials, episode_06: list[Command], tmp_path: Path
) -> None:
    out = _run_notebook(tutorials, "06-statistics-redux/stats.ipynb", tmp_path)
    assert out.returncode == 0, out.explain()
    csv_lines = (tutorials.root / "02-statistics" / "movies.csv").read_text().splitlines()
    assert f"The best movie ever made:\n{csv_lines[-1]}\n" in out.stdout


@pytest.mark.usefixtures("episode_00", "episode_01", "episode_02", "episode_05")
def test_07_worldview_lists_every_flow(tutorials: Tutorials, tmp_path: Path) -> None:
    out = _run_notebook(tutorials, "07-worldview/worldview.ipynb", tmp_path)
    assert out.returncode == 0, out.explain()
    for flow in ("HelloFlow", "PlayListFlow", "MovieStatsFlow", "HelloCloudFlow"):
        assert re.search(rf"^{flow}\s+Last run: \S", out.stdout, re.MULTILINE), flow
    assert "HelloCloudFlow:\nRun id: " in out.stdout and "Successful: True" in out.stdout
