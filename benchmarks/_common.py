"""Shared pieces of the benchmark scripts: tools, flow rendering, one flow runner.

Rules the scripts keep:
- every run writes only inside a fresh temporary directory (``STEPWELL_HOME``,
  ``METAFLOW_DATASTORE_SYSROOT_LOCAL``, ``METAFLOW_HOME`` and the working
  directory all point there), removed afterwards;
- a flow is written once, under ``benchmarks/flows/`` with ``from stepwell
  import ...``; the Metaflow variant is the same file with that import rewritten;
- a run whose exit code is not 0 is reported as failed, never timed.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
FLOWS_DIR = BENCH_DIR / "flows"
RESULTS_DIR = BENCH_DIR / "results"
METAFLOW_VENV = BENCH_DIR / ".venv-metaflow"
METAFLOW_PACKAGES = ("metaflow", "numpy", "pandas")  # the flows need numpy and pandas too

PYCACHE = BENCH_DIR / ".pycache"  # bytecode of both tools, shared by every run

STEPWELL = "stepwell"
METAFLOW = "metaflow"

_IMPORT_LINE = re.compile(r"^from stepwell import ", re.MULTILINE)


@dataclass(frozen=True)
class Tool:
    """One framework under test: its interpreter and the arguments its CLI needs."""

    name: str
    python: Path
    global_args: tuple[str, ...] = ()  # placed before the command (``flow.py ARGS run``)


def stepwell_tool() -> Tool:
    """stepwell, run with the interpreter running this script (the project's venv)."""
    return Tool(STEPWELL, Path(sys.executable))


def metaflow_tool() -> Tool:
    """Metaflow from ``benchmarks/.venv-metaflow``, created on first use."""
    return Tool(METAFLOW, ensure_metaflow_venv(), ("--no-pylint",))


def ensure_metaflow_venv() -> Path:
    """Return the Metaflow venv's python, creating the venv and installing into it if needed."""
    python = METAFLOW_VENV / "bin" / "python"
    probe = [str(python), "-c", "import " + ", ".join(METAFLOW_PACKAGES)]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    print(f"Installing {', '.join(METAFLOW_PACKAGES)} into {METAFLOW_VENV} ...", flush=True)
    subprocess.run(["python3", "-m", "venv", str(METAFLOW_VENV)], check=True)
    pip = [str(METAFLOW_VENV / "bin" / "pip"), "install", "--quiet"]
    subprocess.run([*pip, *METAFLOW_PACKAGES], check=True)
    return python


def prepare_bytecode(tools: Sequence[Tool]) -> None:
    """Compile each tool's package into the shared bytecode cache, untimed, once."""
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(PYCACHE)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for tool in tools:
        code = (
            f"import compileall, os, {tool.name} as m; "
            "compileall.compile_dir(os.path.dirname(m.__file__), quiet=1)"
        )
        subprocess.run([str(tool.python), "-c", code], env=env, check=True)


def tool_version(tool: Tool) -> str:
    """The installed version of the tool's package, or '?' if it cannot be read."""
    code = f"import importlib.metadata as m; print(m.version({tool.name!r}))"
    done = subprocess.run([str(tool.python), "-c", code], capture_output=True, text=True)
    return done.stdout.strip() or "?"


def render_flow(flow: str, tool: Tool, dest_dir: Path) -> Path:
    """Write ``flows/<flow>.py`` for ``tool`` into ``dest_dir``; only the import line changes."""
    source = (FLOWS_DIR / f"{flow}.py").read_text()
    if len(_IMPORT_LINE.findall(source)) != 1:
        raise ValueError(f"{FLOWS_DIR / flow}.py must have exactly one 'from stepwell import' line")
    if tool.name == METAFLOW:
        source = _IMPORT_LINE.sub("from metaflow import ", source)
    path = dest_dir / tool.name / f"{flow}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    return path


def run_env(scratch: Path) -> dict[str, str]:
    """A run's environment (both tools): the caller's, minus tool settings, in ``scratch``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STEPWELL_", "METAFLOW_")) and k != "PYTHONPATH"
    }
    env["USERNAME"] = os.environ.get("USERNAME") or "bench"  # Metaflow aborts without it as root
    # Bytecode cached for both tools: pip compiled Metaflow's at install, while an
    # editable stepwell with PYTHONDONTWRITEBYTECODE set (as on these machines)
    # would compile every module on every start.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    env["STEPWELL_HOME"] = str(scratch / "stepwell-home")
    env["METAFLOW_HOME"] = str(scratch / "metaflow-home")  # no ~/.metaflowconfig
    env["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = str(scratch)
    env["METAFLOW_DEFAULT_DATASTORE"] = "local"
    env["METAFLOW_DEFAULT_METADATA"] = "local"
    return env


@dataclass
class RunResult:
    """One run of one flow command: wall seconds if it succeeded, else the failure."""

    ok: bool
    seconds: float
    returncode: int
    max_rss_mib: float  # ru_maxrss of the waited process: max(itself, its waited descendants)
    own_hwm_mib: float | None  # VmHWM of the top process alone, sampled (only if asked)
    log_tail: str
    timed_out: bool = False


@contextlib.contextmanager
def scratch_dir(prefix: str = "stepwell-bench-") -> Iterator[Path]:
    """A temporary directory removed on exit."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def run_command(
    tool: Tool,
    flow_path: Path,
    command: Sequence[str],
    *,
    sample_rss: bool = False,
    timeout: float = 3600.0,
    prime: bool = False,
) -> RunResult:
    """Run ``python flow.py [global args] COMMAND`` for ``tool`` in a fresh scratch directory.

    With ``prime``, the command runs once untimed first, in the same directory
    (same store), and the second run is timed: a run whose artifacts are stored.
    """
    argv = [str(tool.python), str(flow_path), *tool.global_args, *command]
    with scratch_dir() as scratch:
        env = run_env(scratch)
        if prime:
            first = time_process(argv, cwd=scratch, env=env, timeout=timeout)
            if not first.ok:
                return first
        return time_process(argv, cwd=scratch, env=env, sample_rss=sample_rss, timeout=timeout)


def time_process(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str],
    sample_rss: bool = False,
    timeout: float = 3600.0,
) -> RunResult:
    """Run ``argv`` and time it: ``time.perf_counter`` from start to reap.

    The process leads a new process group, killed when it exits, times out
    or the harness is interrupted. Output goes to a temporary file (its tail
    is kept for failures). The process is reaped with ``os.wait4``, which
    gives its ``ru_maxrss``: the peak RSS of the process or of any descendant
    it waited for, whichever is larger. ``sample_rss`` also samples ``VmHWM``
    of the top process alone (the scheduler) from ``/proc`` every 50 ms.
    """
    with tempfile.TemporaryFile() as log:
        sampler = _HwmSampler() if sample_rss else None
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        if sampler:
            sampler.start(proc.pid)
        expired = threading.Event()
        deadline = threading.Timer(timeout, lambda: (expired.set(), _kill_group(proc.pid)))
        deadline.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # Ctrl-C: take the flow's workers down with it
            _kill_group(proc.pid)
            raise
        finally:
            deadline.cancel()
        seconds = time.perf_counter() - start
        _kill_group(proc.pid)  # workers the run left behind, if any
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        own_hwm = sampler.stop() if sampler else None
        log.seek(0)
        tail = log.read()[-3000:].decode(errors="replace")
    return RunResult(
        ok=proc.returncode == 0,
        seconds=seconds,
        returncode=proc.returncode,
        max_rss_mib=usage.ru_maxrss / 1024,  # Linux reports KiB
        own_hwm_mib=own_hwm,
        log_tail=tail,
        timed_out=expired.is_set(),
    )


def _kill_group(pgid: int) -> None:
    """SIGKILL the process group a flow run leads (it was started in a new session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


class _HwmSampler:
    """Samples ``VmHWM`` (peak resident set) of one process from ``/proc`` in a thread."""

    def __init__(self) -> None:
        self._peak_kib = 0
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, pid: int) -> None:
        self._thread = threading.Thread(target=self._loop, args=(pid,), daemon=True)
        self._thread.start()

    def stop(self) -> float | None:
        self._done.set()
        if self._thread:
            self._thread.join()
        return self._peak_kib / 1024 if self._peak_kib else None

    def _loop(self, pid: int) -> None:
        status = Path(f"/proc/{pid}/status")
        while not self._done.is_set():
            try:
                for line in status.read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        self._peak_kib = max(self._peak_kib, int(line.split()[1]))
            except OSError:
                return
            self._done.wait(0.05)


@contextlib.contextmanager
def postgres_server() -> Iterator[Any]:
    """A durable PostgreSQL (default fsync and synchronous_commit) on 127.0.0.1, stopped on exit.

    ``stepwell.testing.pgserver.PostgresServer``: ``initdb`` in a temporary
    directory, run as the ``postgres`` user under root; removed afterwards.
    """
    from stepwell.testing.pgserver import PostgresServer

    server = PostgresServer.start(durable=True)
    try:
        yield server
    finally:
        server.stop()


def new_metadata_database(server: Any) -> str:
    """A new database on ``server`` with stepwell's schema created; its URL.

    PostgreSQL is never migrated implicitly: this is ``stepwell db upgrade``.
    """
    from stepwell.metadata import PostgresMetadataStore

    url: str = server.new_database()
    store = PostgresMetadataStore(url)
    store.upgrade()
    store.close()
    return url


def median(values: Sequence[float]) -> float | None:
    """The median, or None for no values."""
    return statistics.median(values) if values else None


def machine_info() -> dict[str, object]:
    """What the figures were measured on."""
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "load_avg_1m": os.getloadavg()[0],
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a ``.tmp`` file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def write_json(path: Path, data: object) -> None:
    write_atomic(path, json.dumps(data, indent=2) + "\n")


def verdict(value: float | None, target: float | None, *, at_least: bool = False) -> str:
    """'met', 'NOT met' or 'n/a' for ``value <= target`` (``value >= target`` if ``at_least``)."""
    if value is None or target is None:
        return "n/a"
    met = value >= target if at_least else value <= target
    return "met" if met else "NOT met"
