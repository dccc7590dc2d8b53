"""A real Ray cluster for tests, in a private network namespace (loopback only).

Ray listens on every interface whatever its flags, so a test cluster runs in
a network namespace of its own, where the only interface is loopback: nothing
outside the machine (nor outside the namespace) can reach it. Everything that
talks to it runs in the same namespace — the flow's driver (``command()``),
an S3 server for the datastore (``S3Server.start(network=...)``), and checks
done from the test itself (``call()`` runs a function in a thread that
entered the namespace). Needs Linux, root (``unshare -n``, ``nsenter``) and
``pip install 'stepwell[ray]'``.

Example (pytest fixtures)::

    @pytest.fixture(scope="module")
    def ray_cluster(tmp_path_factory):
        with PrivateNetwork.create() as network:
            with RayCluster.start(network, tmp_path_factory.mktemp("ray")) as cluster:
                yield cluster

    def test_flow(ray_cluster):
        argv = ray_cluster.network.command(
            [sys.executable, "flow.py", "run", "--executor", "ray",
             "--ray-address", ray_cluster.address])
        subprocess.run(argv, env=ray_cluster.environment(), check=True)

Each cluster's ``ray start --head --block`` process is stopped by its PID
(TERM, then KILL of its process group): never ``ray stop``, which stops every
Ray on the machine.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from stepwell.testing.s3server import _die_with_parent

T = TypeVar("T")
_CLONE_NEWNET = 0x40000000


def network_namespaces_available() -> str | None:
    """None when private network namespaces can be made here, else why not."""
    if sys.platform != "linux":
        return "network namespaces need Linux"
    if os.geteuid() != 0:
        return "a private network namespace needs root (unshare -n, nsenter)"
    for tool in ("unshare", "nsenter", "ip"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (util-linux, iproute2)"
    return None


@dataclass
class PrivateNetwork:
    """A network namespace with only loopback, held open by a sleeping process."""

    holder: subprocess.Popen[bytes]
    _pool: concurrent.futures.ThreadPoolExecutor | None = field(default=None, repr=False)

    @classmethod
    @contextlib.contextmanager
    def create(cls, timeout: float = 10.0) -> Iterator[PrivateNetwork]:
        why = network_namespaces_available()
        if why is not None:
            raise RuntimeError(f"Cannot make a private network namespace: {why}.")
        holder = subprocess.Popen(
            ["unshare", "-n", "sh", "-c", "ip link set lo up && echo up && exec sleep infinity"],
            stdout=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        network = cls(holder)
        try:
            assert holder.stdout is not None
            if holder.stdout.readline().strip() != b"up":
                raise RuntimeError("The private network namespace could not be set up.")
            yield network
        finally:
            network.close()

    @property
    def path(self) -> str:
        return f"/proc/{self.holder.pid}/ns/net"

    def command(self, argv: list[str]) -> list[str]:
        """``argv`` run inside the namespace (same files, environment and user)."""
        return ["nsenter", f"--net={self.path}", "--", *argv]

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args)`` in a thread that entered the namespace (its sockets are in it)."""
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(1, initializer=self._enter)
        return self._pool.submit(fn, *args, **kwargs).result()

    def _enter(self) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            if libc.setns(fd, _CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns into the private network failed")
        finally:
            os.close(fd)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        if self.holder.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.holder.pid, signal.SIGKILL)
            self.holder.wait(timeout=10)


@dataclass
class RayCluster:
    """A Ray head node (``ray start --head --block``) in a private network."""

    network: PrivateNetwork
    address: str
    temp_dir: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    env: dict[str, str] = field(default_factory=dict, repr=False)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list, repr=False)

    @classmethod
    @contextlib.contextmanager
    def start(
        cls,
        network: PrivateNetwork,
        workdir: Path,
        *,
        num_cpus: int = 2,
        env: Mapping[str, str] | None = None,
        port: int = 26379,
        timeout: float = 120.0,
    ) -> Iterator[RayCluster]:
        """Start the head; its workers get ``env`` (e.g. S3 credentials, a PYTHONPATH).

        ``HOME`` is a folder under ``workdir`` so Ray writes nothing in the real
        home; its temporary folder is short (Unix socket paths are limited).
        """
        ray = shutil.which("ray", path=str(Path(sys.executable).parent))
        if ray is None:
            raise RuntimeError("Ray is not installed. Install it with: pip install 'stepwell[ray]'")
        temp_dir = Path(tempfile.mkdtemp(prefix="swray"))  # short: socket paths in it
        home = workdir / "home"
        home.mkdir(parents=True, exist_ok=True)
        full_env = {
            **os.environ,
            "HOME": str(home),
            "RAY_USAGE_STATS_ENABLED": "0",
            "STEPWELL_RAY_WORKDIR": str(workdir / "workers"),
            **(env or {}),
        }
        log = workdir / "ray-head.log"
        argv = [
            ray, "start", "--head", "--block", "--node-ip-address=127.0.0.1", f"--port={port}",
            f"--num-cpus={num_cpus}", "--num-gpus=0", "--include-dashboard=false",
            "--disable-usage-stats", f"--temp-dir={temp_dir}",
        ]  # fmt: skip
        with open(log, "wb") as out:
            process = subprocess.Popen(
                network.command(argv),
                stdout=out,
                stderr=subprocess.STDOUT,
                env=full_env,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        cluster = cls(network, f"127.0.0.1:{port}", temp_dir, process, full_env)
        try:
            cluster._wait_ready(log, timeout)
            yield cluster
        finally:
            cluster.stop()
            shutil.rmtree(temp_dir, ignore_errors=True)

    def add_node(
        self,
        workdir: Path,
        *,
        num_cpus: int = 1,
        hide: tuple[Path, ...] = (),
        timeout: float = 120.0,
    ) -> None:
        """Start a worker node that joins this head, as another machine would.

        ``hide`` lists folders this node does not see (an empty tmpfs mounted over
        each, in a mount namespace of its own): a machine without the shared disk.
        """
        ray = shutil.which("ray", path=str(Path(sys.executable).parent))
        assert ray is not None
        temp_dir = self.temp_dir / f"n{len(self.workers) + 1}"  # removed with the head's
        argv = [
            ray, "start", f"--address={self.address}", "--block",
            "--node-ip-address=127.0.0.1", f"--num-cpus={num_cpus}", "--num-gpus=0",
            "--disable-usage-stats", f"--temp-dir={temp_dir}",
        ]  # fmt: skip
        if hide:
            mounts = " && ".join(f"mount -t tmpfs none '{p}'" for p in hide)
            argv = ["unshare", "-m", "sh", "-c", f'{mounts} && exec "$@"', "sh", *argv]
        workdir.mkdir(parents=True, exist_ok=True)
        log = workdir / f"ray-node-{len(self.workers) + 1}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                self.network.command(argv), stdout=out, stderr=subprocess.STDOUT,
                env=self.env, start_new_session=True, preexec_fn=_die_with_parent,
            )  # fmt: skip
        self.workers.append(process)
        _wait_started(process, log, timeout, "The Ray worker node")

    def _wait_ready(self, log: Path, timeout: float) -> None:
        assert self.process is not None
        _wait_started(self.process, log, timeout, "The Ray head")

    def environment(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment for a driver of this cluster (``--ray-address`` still needed)."""
        return {**self.env, **(extra or {})}

    def stop(self) -> None:
        """TERM each ``ray start --block`` process (it stops its node), then KILL its group."""
        for worker in self.workers:
            _stop(worker)
        self.workers.clear()
        process, self.process = self.process, None
        if process is not None:
            _stop(process)


def _wait_started(process: subprocess.Popen[bytes], log: Path, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if b"Ray runtime started" in log.read_bytes():
            return
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited ({process.returncode}):\n{log.read_text()}")
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not start in {timeout} s:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """TERM a ``ray start --block`` process (it stops its node), then KILL its group."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=45)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # whatever of the node outlived it
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
