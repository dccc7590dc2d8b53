"""Large artifacts read in one step and passed on: unchanged ones keep their blob (no hashing
needed: see store/_unwritten.py), changed ones are stored as they are now, in forked workers
and in fresh interpreters alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stepwell.runtime._refs import refs_of
from stepwell.testing import run_flow

FLOW = Path(__file__).parents[1] / "flows" / "store" / "pass_on_flow.py"


@pytest.mark.parametrize("executor", ["fork", "subprocess"])
def test_values_passed_on_keep_their_blob_and_changed_ones_are_stored_anew(
    executor: str, stepwell_home: Path
) -> None:
    run = run_flow(FLOW, "--executor", executor, home=stepwell_home)
    assert run.ok, run.stderr

    def keys(step: str) -> dict[str, str]:
        [task] = run.tasks(step)
        records = run.metadata.list_artifacts(run.flow_name, run.run_id, step, task.task_id)
        return {name: ref.key for name, ref in refs_of(records).items()}

    start, read, edit = keys("start"), keys("read"), keys("edit")
    assert read["array"] == start["array"] and read["frame"] == start["frame"]
    assert edit["array"] != start["array"] and edit["frame"] != start["frame"]

    rng = np.random.default_rng(0)
    array = rng.random(400_000)
    frame = rng.random((100_000, 4))
    assert run.artifacts("read")["sum_read"] == pytest.approx(array.sum() + frame.sum())
    end = run.artifacts("end")
    assert (end["first"], end["cell"], end["columns"]) == (7.0, -1.0, ["a", "b", "c", "d", "e"])
    edited = run.artifacts("edit")
    expected = array.copy()
    expected[0] = 7.0
    np.testing.assert_array_equal(edited["array"], expected)
    assert edited["frame"]["b"].iloc[3] == -1.0 and edited["frame"]["a"].iloc[3] == frame[3, 0]
    np.testing.assert_array_equal(run.artifacts("start")["array"], array)  # never changed
