"""Errors that are the user's are reported as the user's: file:line or the setting, no traceback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from stepwell.metadata import SqliteMetadataStore
from stepwell.testing import run_flow

FLOWS = Path(__file__).parents[1] / "flows" / "errors"
STEPWELL = [sys.executable, "-m", "stepwell.cli"]


def _cli(*argv: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=120,
                          check=False, env={**os.environ, **env})  # fmt: skip


def _is_users(out: subprocess.CompletedProcess[str]) -> None:
    assert out.returncode == 1, out.stderr
    assert "Internal error" not in out.stderr and "stepwell/cli" not in out.stderr


def test_a_syntax_error_in_the_flow_file_names_its_line(
    stepwell_home: Path, tmp_path: Path
) -> None:
    flow = tmp_path / "broken.py"
    flow.write_text(
        "from stepwell import FlowSpec, step\n\nclass B(FlowSpec):\n    def start(self)\n"
    )
    for command in ("run", "check"):
        out = _cli(*STEPWELL, command, flow)
        _is_users(out)
        assert "The flow file cannot be loaded: expected ':'" in out.stderr
        assert f"at {flow}:4" in out.stderr


def test_an_import_error_in_the_flow_file_is_the_users(stepwell_home: Path, tmp_path: Path) -> None:
    flow = tmp_path / "needs.py"
    flow.write_text("import os\nimport no_such_module_for_stepwell_tests\n")
    out = _cli(*STEPWELL, "check", flow)
    _is_users(out)
    assert "ModuleNotFoundError: No module named 'no_such_module_for_stepwell_tests'" in out.stderr
    assert f"at {flow}:2" in out.stderr


def test_a_home_that_is_a_file_names_the_setting(tmp_path: Path) -> None:
    home = tmp_path / "not-a-dir"
    home.write_text("")
    out = _cli(sys.executable, FLOWS / "chatty_flow.py", "run", STEPWELL_HOME=str(home))
    _is_users(out)
    assert f"Setting 'home' is {home} (from env:STEPWELL_HOME), which is a file" in out.stderr


def test_a_port_in_use_for_the_ui_says_what_to_do(stepwell_home: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = _cli(*STEPWELL, "ui", "--port", str(port))
    assert out.returncode != 0
    assert f"Port {port} on 127.0.0.1 is already in use" in out.stderr
    assert "--port 0" in out.stderr and "Traceback" not in out.stderr


def test_keyboard_interrupt_raised_in_a_step_fails_that_step(stepwell_home: Path) -> None:
    run = run_flow(FLOWS / "interrupted_flow.py", home=stepwell_home)
    assert run.returncode == 1 and run.run_id is not None
    assert "failed (attempt 0): KeyboardInterrupt" in run.stderr
    assert "Internal error" not in run.stderr


def test_sigterm_stops_the_tasks_and_records_the_run_as_stopped(
    stepwell_home: Path, tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    proc = subprocess.Popen(
        [sys.executable, str(FLOWS / "sleepy_flow.py"), "run"], stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True, env={**os.environ, "SLEEPY_PIDS": str(pids)},
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while (not pids.exists() or len(pids.read_text().split()) < 2) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "Stopped by SIGTERM: the run's tasks were stopped." in err
    for pid in map(int, pids.read_text().split()):
        assert _ended(pid), f"task process {pid} still runs"
    run = SqliteMetadataStore(stepwell_home / "stepwell.db").latest_run("SleepyFlow")
    assert run is not None and (run.status, run.error) == ("failed", "stopped by SIGTERM")


def _ended(pid: int, wait: float = 10.0) -> bool:
    """The process is gone, or a zombie waiting to be reaped (it runs no code)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def test_a_reader_that_goes_away_does_not_fail_the_run(stepwell_home: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, str(FLOWS / "chatty_flow.py"), "run"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline()
    proc.stdout.close()  # as `| head -1` does
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "BrokenPipeError" not in err
    run = SqliteMetadataStore(stepwell_home / "stepwell.db").latest_run("ChattyFlow")
    assert run is not None and run.status == "succeeded"
