"""Reading a small artifact in a fresh process imports only what reading needs.

A fresh-process Client read is mostly imports; these modules are for writers,
services or blobs, and each costs milliseconds (benchmarks/client_read.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from stepwell.testing import run_flow

FLOW = Path(__file__).parents[1] / "flows" / "shapes" / "linear_flow.py"
NOT_FOR_READING = (
    "stepwell.flow",  # the flow layer
    "stepwell.runtime",  # the run loop
    "stepwell.client._compare",  # compare_runs
    "stepwell.metadata._launches",  # what writers report
    "stepwell.metadata._service_records",  # tokens, deployments, events
    "stepwell.store._cas",  # an inline value needs no content store...
    "stepwell.store._integrity",  # ...nor its integrity checks
    "stepwell.store._local",  # ...nor a storage backend
    "dataclasses",  # read records and settings are named tuples (dataclasses imports inspect)
)


def test_reading_an_inline_artifact_imports_no_writer_store_or_service_module(tmp_path):
    home = tmp_path / "home"
    run = run_flow(FLOW, home=home, timeout=120)
    assert run.ok, run.stderr
    code = (
        "import json, sys\n"
        "from stepwell import Flow\n"
        "value = Flow('LinearFlow').latest_run['end'].task.data.result\n"
        f"loaded = [m for m in {NOT_FOR_READING!r} if m in sys.modules]\n"
        "print(json.dumps([value, loaded]))\n"
    )
    env = {**os.environ, "STEPWELL_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [5, []]
