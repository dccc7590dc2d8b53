"""The real ``stepwell scheduler`` process, driven by a clock file the test writes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

FLOWS = Path(__file__).parents[1] / "flows" / "scheduler"


class Schedulers:
    """Start scheduler processes on one home and clock; stop (or kill) them."""

    def __init__(self, home: Path, clock: Path, logs: Path) -> None:
        self.home, self.clock, self.logs = home, clock, logs
        self.procs: list[subprocess.Popen[bytes]] = []

    def set_time(self, seconds: float) -> None:
        self.clock.write_text(repr(float(seconds)))

    def start(self, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = self.logs / f"scheduler-{len(self.procs)}.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "stepwell.cli", "scheduler", "--tick", "0.1",
             "--clock-file", str(self.clock)],
            env={**os.environ, "STEPWELL_HOME": str(self.home), **(env or {})},
            stdout=subprocess.DEVNULL, stderr=log.open("wb"),
        )  # fmt: skip
        self.procs.append(proc)
        return proc

    def log(self, index: int) -> str:
        return (self.logs / f"scheduler-{index}.log").read_text()

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def schedulers(stepwell_home: Path, tmp_path: Path) -> Iterator[Schedulers]:
    pytest.importorskip("croniter", reason="the scheduler needs 'stepwell[scheduler]'")
    stepwell_home.mkdir(parents=True, exist_ok=True)
    found = Schedulers(stepwell_home, tmp_path / "clock", tmp_path)
    found.set_time(time.time())
    yield found
    found.stop_all()
