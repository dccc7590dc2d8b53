"""Artifact lineage: which task computed a value, and which tasks read it."""

from __future__ import annotations

from pathlib import Path

from stepwell import Flow
from stepwell.testing import run_flow

SHAPES = Path(__file__).parents[1] / "flows" / "shapes"


def test_readers_and_producer_of_artifacts(stepwell_home: Path) -> None:
    run = run_flow(SHAPES / "linear_flow.py", home=stepwell_home)
    assert run.ok, run.stderr
    tasks = {step.id: step.task for step in Flow("LinearFlow").latest_run}
    end = tasks["end"].artifacts
    assert end.x.produced_by.pathspec == tasks["start"].pathspec
    assert end.doubled.produced_by.pathspec == tasks["double"].pathspec
    assert end.squared.produced_by.pathspec == tasks["square"].pathspec
    x_readers = {t.pathspec for t in tasks["start"].artifacts.x.read_by}
    assert x_readers == {tasks["double"].pathspec, tasks["end"].pathspec}
    doubled_readers = {t.pathspec for t in tasks["double"].artifacts.doubled.read_by}
    assert doubled_readers == {tasks["square"].pathspec}


def test_a_join_records_what_it_read_from_its_inputs(stepwell_home: Path) -> None:
    run = run_flow(SHAPES / "foreach_flow.py", home=stepwell_home)
    assert run.ok, run.stderr
    client_run = Flow("ForeachFlow").latest_run
    [join] = list(client_run["join"])
    for branch in client_run["square"]:
        readers = [t.pathspec for t in branch.artifacts.square_value.read_by]
        assert readers == [join.pathspec]
