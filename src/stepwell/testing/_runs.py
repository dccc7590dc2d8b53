"""Run a flow file in a fresh process against a private store, and read back what it did.

This is the test kit's small reader; the full Client API is ``stepwell.client``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class FlowRun:
    """A finished ``python flow.py run`` and the records it left."""

    home: Path
    flow_name: str
    returncode: int
    stdout: str
    stderr: str
    run_id: str | None
    metadata_url: str = "local"  # the run's STEPWELL_METADATA
    _metadata: Any = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def metadata(self) -> Any:
        if self._metadata is None:
            from stepwell.metadata import open_metadata

            self._metadata = open_metadata(self.metadata_url, home=self.home)
        return self._metadata

    def tasks(self, step: str | None = None) -> list[Any]:
        assert self.run_id is not None, f"the run did not start:\n{self.stderr}"
        return list(self.metadata.list_tasks(self.flow_name, self.run_id, step))

    def artifacts(self, step: str, task_id: str | None = None) -> dict[str, Any]:
        """Artifact values of one task of ``step`` (the only one when ``task_id`` is None)."""
        from stepwell.runtime._refs import refs_of
        from stepwell.store import ContentStore, load_artifact, open_storage

        assert self.run_id is not None, f"the run did not start:\n{self.stderr}"
        if task_id is None:
            tasks = self.tasks(step)
            assert len(tasks) == 1, f"step {step} has {len(tasks)} tasks"
            task_id = tasks[0].task_id
        records = self.metadata.list_artifacts(self.flow_name, self.run_id, step, task_id)
        datastore = self.metadata.get_run(self.flow_name, self.run_id).datastore
        store = ContentStore(open_storage(datastore or str(self.home)))
        return {name: load_artifact(store, ref) for name, ref in refs_of(records).items()}


def run_flow(
    flow_file: str | Path,
    *args: str,
    home: str | Path,
    env: Mapping[str, str] | None = None,
    command: Sequence[str] = ("run",),
    timeout: float = 300,
) -> FlowRun:
    """``python <flow_file> run <args>`` with ``STEPWELL_HOME=home``; never raises on failure."""
    home = Path(home)
    run_id_file = home / f"run-id-{os.getpid()}-{len(list(home.glob('run-id-*')))}"
    home.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, "STEPWELL_HOME": str(home), **(env or {})}
    argv = [sys.executable, str(flow_file), *command, *args]
    if command and command[-1] in ("run", "resume"):
        argv += ["--run-id-file", str(run_id_file)]
    proc = subprocess.run(
        argv, capture_output=True, text=True, env=full_env, timeout=timeout, check=False
    )
    run_id = run_id_file.read_text().strip() if run_id_file.exists() else None
    from stepwell.flow import load_flow_class

    flow_name = load_flow_class(flow_file).__name__
    metadata = full_env.get("STEPWELL_METADATA") or "local"
    return FlowRun(home, flow_name, proc.returncode, proc.stdout, proc.stderr, run_id, metadata)
