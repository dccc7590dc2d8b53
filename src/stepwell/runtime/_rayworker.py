"""The worker side of ``--executor ray``: one Ray task runs one attempt of one stepwell task.

A Ray worker process keeps one zygote per run: ``python -m
stepwell.runtime._envmain FLOW_FILE`` started in the run's code package
(downloaded from the datastore and unpacked once per key on each node), which
imports the flow once and forks a child per task with the fork executor's
protocol. So a task on Ray starts in milliseconds, and a crash or
``os._exit`` in a step ends only that task, never the Ray worker.

:func:`run_attempt` is a Ray generator task. While the task runs it yields
``("output", stdout, stderr)`` chunks (at most every ``LOG_INTERVAL``
seconds, and only when there is output), then ``("done", stdout, stderr,
result, exit_code)``. The driver writes them into the task's pipes, so the
run loop, the live logs and the UI see a Ray task as they see a local one.
Workers need no metadata access: what a join reads of its inputs comes with
its spec. Nothing secret passes through Ray: ``@secrets`` are resolved in the
task, on the worker.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import platform
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from stepwell.runtime._channel import MessageReader, send_message
from stepwell.runtime._context import RunInfo
from stepwell.runtime._spec import TaskSpec

LOG_INTERVAL = 0.2  # seconds between two chunks of a running task's output
WORKDIR_ENV = "STEPWELL_RAY_WORKDIR"  # where workers unpack code and cache (default: a tmp dir)


@dataclass(frozen=True)
class RunShare:
    """What every task of a run sends to its worker once (put in Ray's object store)."""

    info: RunInfo  # as the worker sees it: its own home, the run's datastore
    decorators: dict[str, Any]  # step -> its decorators, as the run resolved them
    script: str  # the flow file's name in the code package


def work_dir() -> Path:
    """This node's folder for code packages and caches."""
    root = os.environ.get(WORKDIR_ENV) or os.path.join(
        tempfile.gettempdir(), f"stepwell-ray-{os.getuid()}"
    )
    return Path(root)


def probe(
    marker: str | None, datastore: str = "", endpoint_url: str | None = None
) -> dict[str, Any]:
    """What the driver checks on every node before a run: versions, the datastore.

    ``marker``: a file in a local datastore this node must see; ``datastore``: a
    remote one this node must be able to use (its own credentials).
    """
    from stepwell._version import __version__

    datastore_error = None
    if datastore:
        from stepwell.store import open_storage

        try:
            open_storage(datastore, endpoint_url=endpoint_url).check()
        except Exception as exc:
            datastore_error = str(exc) or type(exc).__name__
    return {
        "python": platform.python_version(),
        "stepwell": __version__,
        "host": platform.node(),
        "sees_marker": marker is None or os.path.exists(marker),
        "datastore_error": datastore_error,
    }


def gang_main_ip() -> str:
    """The IP of the node holding bundle 0 of this task's placement group (@parallel)."""
    import ray

    group = ray.util.get_current_placement_group()
    if group is None:
        return "127.0.0.1"
    table = ray.util.placement_group_table(group)
    node_id = table.get("bundles_to_node_id", {}).get(0)
    for node in ray.nodes():
        if node.get("NodeID") == node_id:
            return str(node.get("NodeManagerAddress", "127.0.0.1"))
    return "127.0.0.1"


# -- the zygote of a run, in this worker process -----------------------------------
class _Zygote:
    """A zygote process for one run (and step environment), fed launch messages."""

    def __init__(
        self, share: RunShare, folder: Path, python: str, variables: dict[str, str], key: Any
    ) -> None:
        from stepwell.runtime._envexec import ZYGOTE_FD_ENV

        info = share.info
        self.key = key
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.errors: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        env = {**variables, ZYGOTE_FD_ENV: str(theirs.fileno())}
        try:
            self.proc = subprocess.Popen(
                [python, "-m", "stepwell.runtime._envmain", str(folder / share.script)],
                cwd=folder,  # the task's working directory: the flow's own folder, as packaged
                stdin=subprocess.PIPE,
                stdout=self.errors,
                stderr=self.errors,
                pass_fds=(theirs.fileno(),),
                env=env,
            )
        finally:
            theirs.close()
        assert self.proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):  # died at once: launch() says why
            payload = (share.decorators, "local", info.datastore_url)
            self.proc.stdin.write(pickle.dumps(payload, protocol=5))
            self.proc.stdin.close()
        self.reader = MessageReader()
        self._init: tuple[str, RunInfo] | None = ("init", info)

    def launch(self, spec: TaskSpec) -> tuple[int, int, int]:
        """Start the task; the read ends of its stdout, stderr and result pipes."""
        if self._init is not None:
            send_message(self.sock, self._init)
            self._init = None
        (out_r, out_w), (err_r, err_w), (res_r, res_w) = os.pipe(), os.pipe(), os.pipe()
        try:
            send_message(self.sock, ("launch", spec), fds=(out_w, err_w, res_w))
        except BaseException:
            for fd in (out_r, err_r, res_r):
                os.close(fd)
            raise
        finally:
            for fd in (out_w, err_w, res_w):
                os.close(fd)
        return out_r, err_r, res_r

    def failure(self) -> str:
        """Why the zygote ended: its own output (the flow file's import error, say)."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        self.errors.seek(0)
        text = self.errors.read().decode(errors="replace")[-6000:].strip()
        return text or f"(the zygote exited with code {self.proc.returncode}, printing nothing)"

    def close(self) -> None:
        self.sock.close()  # end of stream: the zygote kills its children and exits
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        self.errors.close()


#: (run id, environment key) -> its zygote; a worker serves one run at a time.
_zygotes: dict[tuple[str, str], _Zygote] = {}


#: (code package key, step) -> the unpacked package and the step's environment (or None),
#: prepared on the first task of that step in this worker process, reused after.
_prepared: dict[tuple[str, str], tuple[Path, Any]] = {}


def _prepare(info: RunInfo, step: str) -> tuple[Path, Any]:
    """The code package's folder on this node, and ``step``'s environment built here."""
    from stepwell.runtime._package import unpack_package
    from stepwell.store import open_content_store

    assert info.code_key is not None
    found = _prepared.get((info.code_key, step))
    if found is None:
        store = open_content_store(info.datastore_url, endpoint_url=info.s3_endpoint_url)
        folder = work_dir() / "code" / info.code_key
        folder = unpack_package(store, info.code_key, folder, context="the run's code package")
        found = _prepared[(info.code_key, step)] = (folder, _environment_of(folder, step))
    return found


def _zygote_for(share: RunShare, step: str) -> _Zygote:
    """The zygote for ``step``'s tasks: this worker's Python, or the step's environment."""
    info = share.info
    folder, environment = _prepare(info, step)
    key = (info.run_id, environment.key if environment is not None else "")
    zygote = _zygotes.get(key)
    if zygote is not None and zygote.proc.poll() is None:
        return zygote
    for old_key in [k for k, z in _zygotes.items() if k[0] != info.run_id or k == key]:
        _zygotes.pop(old_key).close()  # another run's, or a dead one
    if environment is None:
        python, variables = sys.executable, dict(os.environ)
    else:
        from stepwell.environments import EnvironmentStore
        from stepwell.runtime._envexec import environment_variables

        shim = EnvironmentStore(work_dir() / "environments").shim()
        python, variables = environment.python, environment_variables(environment, shim)
    zygote = _zygotes[key] = _Zygote(share, folder, python, variables, key)
    return zygote


def _environment_of(folder: Path, step: str) -> Any:
    """The step's @pypi / @conda environment, rebuilt on this node from the package's lock."""
    from stepwell.runtime._package import packaged_environment

    return packaged_environment(folder, step, work_dir() / "environments")


def _cannot_start(text: str) -> str:
    return (
        f"stepwell could not start the flow on Ray node {platform.node()} "
        f"(Python {platform.python_version()} at {sys.executable}):\n{text}\n"
        "Every module the flow file imports at its top must be installed on the Ray nodes "
        "(or imported inside the steps that use it).\n"
    )


# -- one attempt -------------------------------------------------------------------
def run_attempt(share: RunShare, spec: TaskSpec) -> Iterator[tuple[Any, ...]]:
    """The Ray task of one attempt (a generator: output while it runs, then the end)."""
    try:
        zygote = _zygote_for(share, spec.step_name)
        if any(frame.kind == "parallel" for frame in spec.frames):
            spec = replace(spec, extras={**spec.extras, "main_ip": gang_main_ip()})
        fds = zygote.launch(spec)
    except (BrokenPipeError, ConnectionResetError):  # the zygote died: the flow did not load
        text = zygote.failure()
        _zygotes.pop(zygote.key, None)
        yield ("done", b"", _cannot_start(text).encode(), b"", 1)
        return
    except Exception as exc:  # the code package or the step's environment is not to be had
        message = f"stepwell could not prepare the task on {platform.node()}: {exc}\n"
        yield ("done", b"", message.encode(), b"", 1)
        return
    yield from _follow(zygote, spec, fds)


def _follow(
    zygote: _Zygote, spec: TaskSpec, fds: tuple[int, int, int]
) -> Iterator[tuple[Any, ...]]:
    buffers = {fd: bytearray() for fd in fds}
    out, err, result = (buffers[fd] for fd in fds)
    selector = selectors.DefaultSelector()
    for fd in fds:
        os.set_blocking(fd, False)
        selector.register(fd, selectors.EVENT_READ)
    selector.register(zygote.sock, selectors.EVENT_READ)
    pid: int | None = None
    code: int | None = None
    open_fds = set(fds)
    last = time.monotonic()
    try:
        while code is None or open_fds:
            for key, _ in selector.select(LOG_INTERVAL):
                if key.fileobj is zygote.sock:
                    try:
                        data = zygote.sock.recv(1 << 16)
                    except ConnectionResetError:
                        data = b""
                    if not data:  # the zygote itself died
                        selector.unregister(zygote.sock)
                        _zygotes.pop(zygote.key, None)
                        if pid is None:  # before forking the task: the flow did not load
                            err += _cannot_start(zygote.failure()).encode()
                            code = 1
                        elif code is None:
                            err += b"\nstepwell: the task's zygote process ended unexpectedly.\n"
                            code = -signal.SIGKILL
                        break
                    for kind, task_id, attempt, value in zygote.reader.feed(data):
                        if (task_id, attempt) != spec.key:
                            continue
                        if kind == "started":
                            pid = value
                        elif kind == "exited":
                            code = value
                else:
                    fd = int(key.fd)
                    if not _read(fd, buffers[fd]):
                        selector.unregister(fd)
                        open_fds.discard(fd)
            if code is not None:  # ended: take what the pipes hold, never wait on them
                for fd in list(open_fds):
                    while _read(fd, buffers[fd]):
                        pass
                    selector.unregister(fd)
                    open_fds.discard(fd)
            now = time.monotonic()
            if (out or err) and code is None and now - last >= LOG_INTERVAL:
                yield ("output", bytes(out), bytes(err))
                out.clear()
                err.clear()
                last = now
    except BaseException:  # ray.cancel (KeyboardInterrupt) or the generator closed
        if pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        raise
    finally:
        selector.close()
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)
    yield ("done", bytes(out), bytes(err), bytes(result), code)


def _read(fd: int, buffer: bytearray) -> bool:
    """Read once into ``buffer``; False at end of stream or when nothing is there now."""
    try:
        data = os.read(fd, 1 << 16)
    except BlockingIOError:
        return False
    if not data:
        return False
    buffer += data
    return True
