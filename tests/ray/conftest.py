"""A real Ray cluster and S3 server, both in a private network (loopback only), per module.

The flow's driver runs in that network too (``Cluster.run``); so do the
checks that read the run back through the Client (``Cluster.client``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("ray", reason="the Ray tests need Ray: pip install 'stepwell[ray]'")
pytest.importorskip(
    "obstore", reason="the Ray tests use the S3 datastore: pip install 'stepwell[s3]'"
)

from stepwell.testing.raycluster import (
    PrivateNetwork,
    RayCluster,
    network_namespaces_available,
)
from stepwell.testing.s3server import S3Server

FLOWS = Path(__file__).parents[1] / "flows" / "ray"
SECRET = "s3cr3t-v4lue-42"


def offline_uv(cache: Path) -> dict[str, str]:
    """uv settings for @pypi steps: the test wheelhouse only, offline (the cluster's network
    reaches nothing else)."""
    from tests.environments._wheelhouse import DONE, WHEELHOUSE

    if not DONE.exists():
        return {}
    return {"UV_OFFLINE": "1", "UV_FIND_LINKS": str(WHEELHOUSE), "UV_NO_CONFIG": "1",
            "UV_INDEX_URL": "http://127.0.0.1:9/simple", "UV_CACHE_DIR": str(cache)}  # fmt: skip


_why = network_namespaces_available()
if _why is not None:
    pytest.skip(f"the Ray tests run Ray in a private network: {_why}", allow_module_level=True)


class Cluster:
    """A Ray head and an S3 bucket in one private network; runs drivers there."""

    def __init__(self, ray: RayCluster, s3: S3Server, bucket: str, home: Path) -> None:
        self.ray, self.s3, self.bucket, self.home = ray, s3, bucket, home
        self.network = ray.network

    def env(self, home: Path | None = None, **extra: str) -> dict[str, str]:
        return self.ray.environment(
            {"STEPWELL_HOME": str(home or self.home), **self.s3.environment(self.bucket), **extra}
        )

    def command(self, flow: str, *args: str, address: bool = True) -> list[str]:
        argv = [sys.executable, str(FLOWS / flow), *args]
        if address and args and args[0] in ("run", "resume"):
            argv += ["--executor", "ray", "--ray-address", self.ray.address]
        return self.network.command(argv)

    def run(self, flow: str, *args: str, timeout: float = 240, **kw: Any) -> Any:
        env = kw.pop("env", None) or self.env()
        return subprocess.run(
            self.command(flow, *args, address=kw.pop("address", True)),
            env=env, capture_output=True, text=True, timeout=timeout, **kw,
        )  # fmt: skip

    def popen(self, flow: str, *args: str, **kw: Any) -> subprocess.Popen[str]:
        env = kw.pop("env", None) or self.env()
        return subprocess.Popen(
            self.command(flow, *args), env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True, **kw,
        )  # fmt: skip

    def client(self, code: str, home: Path | None = None) -> Any:
        """Run ``code`` (it sets ``result``) with the Client, in the network; the result."""
        script = "import json\nfrom stepwell import Flow, Run, namespace\nnamespace(None)\n"
        script += textwrap.dedent(code) + "\nprint('RESULT=' + json.dumps(result))\n"
        done = subprocess.run(
            self.network.command([sys.executable, "-c", script]),
            env=self.env(home), capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        line = [x for x in done.stdout.splitlines() if x.startswith("RESULT=")][-1]
        return json.loads(line[len("RESULT=") :])


@pytest.fixture(scope="package")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    work = tmp_path_factory.mktemp("ray")
    with PrivateNetwork.create() as network, S3Server.start(network=network) as s3:
        bucket = s3.new_bucket()
        env = {**s3.credentials, "STEPWELL_SECRET_RAY_TEST_TOKEN": SECRET,
               **offline_uv(work / "uv-cache")}  # fmt: skip
        with RayCluster.start(network, work, num_cpus=2, env=env) as ray:
            yield Cluster(ray, s3, bucket, work / "stepwell-home")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def processes_in(network: PrivateNetwork) -> list[int]:
    """PIDs of the processes in ``network`` (but its holder)."""
    target = os.readlink(network.path)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == network.holder.pid:
            continue
        try:
            if os.readlink(entry / "ns" / "net") == target:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
