"""A real S3-compatible server on 127.0.0.1 for tests: moto's server mode, started and stopped here.

Example (a pytest fixture)::

    @pytest.fixture(scope="session")
    def s3_server(tmp_path_factory):
        with S3Server.start() as server:
            yield server

    def test_roundtrip(s3_server):
        bucket = s3_server.new_bucket()
        ...  # talk to s3_server.endpoint_url with s3_server.credentials

The server keeps objects in memory and ends with the ``with`` block (TERM, then
KILL). It needs ``moto[server]`` (a dev extra). Nothing here talks to any
address but the loopback one it started on.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Credentials the server accepts (moto checks none; clients must send some).
ACCESS_KEY = "stepwell-test"
SECRET_KEY = "stepwell-test-secret"
REGION = "us-east-1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, end with the thread that started it.

    A test run killed from outside (a timeout, Ctrl-C twice) then leaves no server behind.
    """
    if sys.platform != "linux":
        return
    import ctypes

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)


@dataclass
class S3Server:
    """A running moto server: its endpoint, credentials, and a way to make buckets."""

    endpoint_url: str
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    network: Any = field(default=None, repr=False)  # a raycluster.PrivateNetwork it runs in

    @classmethod
    @contextlib.contextmanager
    def start(
        cls,
        port: int | None = None,
        timeout: float = 30.0,
        *,
        require_auth: bool = False,
        network: Any = None,
    ) -> Iterator[S3Server]:
        """Start ``moto_server`` on 127.0.0.1 and stop it when the block ends.

        With ``require_auth`` the server checks credentials like AWS does, and
        knows none: every request is refused as InvalidAccessKeyId. With a
        ``network`` (:class:`stepwell.testing.raycluster.PrivateNetwork`) it runs
        in that private network, where its clients must run too.
        """
        port = port or free_port()
        executable = shutil.which("moto_server", path=str(Path(sys.executable).parent))
        if executable is None:
            raise RuntimeError(
                "moto_server is not installed. Install it with: pip install 'stepwell[dev]'"
            )
        env = dict(os.environ)
        if require_auth:
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"
        argv = [executable, "-H", "127.0.0.1", "-p", str(port)]
        process = subprocess.Popen(
            network.command(argv) if network is not None else argv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
            preexec_fn=_die_with_parent,
        )
        server = cls(f"http://127.0.0.1:{port}", process, network)
        try:
            server._wait_ready(timeout)
            yield server
        finally:
            server.stop()

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"moto_server exited with code {self.process.returncode}")
            try:
                self._in_network(urllib.request.urlopen, self.endpoint_url + "/", timeout=1).close()
                return
            except urllib.error.HTTPError:
                return  # it answered
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"moto_server did not answer on {self.endpoint_url} in {timeout} s")

    def stop(self) -> None:
        """TERM the server's process group, then KILL it if it lingers."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def new_bucket(self, name: str | None = None) -> str:
        """Create a bucket (a fresh unique name by default) and return its name."""
        name = name or f"sw-{uuid.uuid4().hex[:16]}"
        request = urllib.request.Request(f"{self.endpoint_url}/{name}", method="PUT")
        self._in_network(urllib.request.urlopen, request, timeout=10).close()
        return name

    def _in_network(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if self.network is None:
            return fn(*args, **kwargs)
        return self.network.call(fn, *args, **kwargs)

    @property
    def credentials(self) -> dict[str, str]:
        """Standard AWS environment variables for this server."""
        return {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION,
        }

    def environment(self, bucket: str, prefix: str = "stepwell") -> dict[str, str]:
        """The variables that point stepwell's datastore at ``s3://bucket/prefix`` here."""
        return {
            **self.credentials,
            "STEPWELL_DATASTORE": "s3",
            "STEPWELL_DATASTORE_ROOT": f"s3://{bucket}/{prefix}",
            "STEPWELL_S3_ENDPOINT_URL": self.endpoint_url,
        }
