"""On Ray, stepwell still decides: timeouts, lost workers, Ctrl-C, a killed driver, bad setups."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from tests._polling import wait_for
from tests.ray.conftest import FLOWS, Cluster, alive, processes_in

from stepwell.testing.raycluster import PrivateNetwork


def test_timeout_cancels_the_ray_task_and_kills_the_step(
    cluster: Cluster, home: Path, tmp_path: Path
) -> None:
    done = cluster.run("control.py", "run", "--mode", "timeout", "--marks", str(tmp_path),
                       env=cluster.env(home))  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr  # @catch takes the last failure
    assert done.stderr.count("ran longer than its @timeout") >= 2  # both attempts
    for attempt in (0, 1):
        pid = int((tmp_path / f"pid-{attempt}").read_text())
        wait_for(lambda pid=pid: not alive(pid), timeout=30, what=f"task process {pid} to end")


def test_a_lost_worker_is_a_failed_attempt_and_is_retried(
    cluster: Cluster, home: Path, tmp_path: Path
) -> None:
    done = cluster.run("control.py", "run", "--mode", "lose-worker", "--marks", str(tmp_path),
                       env=cluster.env(home))  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "RayTaskLost" in done.stderr
    result = cluster.client(
        """
        run = Flow("RayControl").latest_run
        act = run["act"].task
        result = {"survived": act.data.survived, "attempt": act.current_attempt,
                  "failure": act.data.failure}
        """,
        home,
    )
    assert result == {"survived": 1, "attempt": 1, "failure": None}


def test_ctrl_c_cancels_the_ray_tasks_and_marks_the_run(
    cluster: Cluster, home: Path, tmp_path: Path
) -> None:
    proc = cluster.popen("linger.py", "run", "--marks", str(tmp_path), env=cluster.env(home))
    pid_file = tmp_path / "pid"
    wait_for(pid_file.exists, timeout=120, what="the step to start")
    task_pid = int(pid_file.read_text())
    os.killpg(proc.pid, signal.SIGINT)  # as Ctrl-C in a terminal: the whole group
    proc.communicate(timeout=120)
    assert proc.returncode != 0
    wait_for(lambda: not alive(task_pid), timeout=30, what="the step's process to end")
    status = cluster.client(
        "run = Flow('RayLinger').latest_run\nresult = [run.successful, run.finished]", home
    )
    assert status == [False, True]


def test_a_killed_driver_takes_its_ray_tasks_with_it(
    cluster: Cluster, home: Path, tmp_path: Path
) -> None:
    proc = cluster.popen("linger.py", "run", "--marks", str(tmp_path), env=cluster.env(home))
    pid_file = tmp_path / "pid"
    wait_for(pid_file.exists, timeout=120, what="the step to start")
    task_pid = int(pid_file.read_text())
    proc.kill()
    proc.wait(timeout=30)
    # Ray ends a dead driver's tasks; the worker's zygote then ends the step's process
    wait_for(lambda: not alive(task_pid), timeout=90, what="the step's process to end")


def test_an_unreachable_cluster_is_one_clear_message(cluster: Cluster, home: Path) -> None:
    done = subprocess.run(
        cluster.network.command([sys.executable, str(FLOWS / "fanout.py"), "run",
                                 "--executor", "ray", "--ray-address", "127.0.0.1:1"]),
        env=cluster.env(home), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert "The Ray cluster at 127.0.0.1:1 cannot be reached" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_flow_whose_imports_the_workers_lack_fails_saying_so(
    cluster: Cluster, home: Path
) -> None:
    env = cluster.env(home, PYTHONPATH=str(FLOWS / "driver_only"))  # the driver has it
    done = cluster.run("needs_dep/flow.py", "run", env=env)
    assert done.returncode == 1
    assert "could not start the flow on Ray node" in done.stderr
    assert "No module named 'driver_only_helper'" in done.stderr
    assert "must be installed on the Ray nodes" in done.stderr


def test_a_local_ray_is_started_for_the_run_and_stopped_after_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ray_tmp = tempfile.mkdtemp(prefix="swray")  # short: Ray's socket paths go in it
    with PrivateNetwork.create() as network:
        env = {**os.environ, "STEPWELL_HOME": str(home), "HOME": str(tmp_path),
               "RAY_USAGE_STATS_ENABLED": "0", "STEPWELL_RAY_WORKDIR": str(tmp_path / "w"),
               "RAY_TMPDIR": ray_tmp}  # fmt: skip
        env.pop("RAY_ADDRESS", None)
        done = subprocess.run(
            network.command([sys.executable, str(FLOWS / "fanout.py"), "run", "--executor",
                             "ray", "--width", "3"]),
            env=env, capture_output=True, text=True, timeout=240,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert "total 5" in done.stdout
        # the Ray it started ended with it: nothing is left running in its network
        wait_for(lambda: processes_in(network) == [], timeout=60, what="the local Ray to stop")
    shutil.rmtree(ray_tmp, ignore_errors=True)


def test_a_cluster_with_another_stepwell_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(Path(__file__).parents[2] / "src" / "stepwell", other / "stepwell")
    (other / "stepwell" / "_version.py").write_text('__version__ = "0.0.1-other"\n')
    from stepwell.testing.raycluster import RayCluster

    paths = {"PYTHONPATH": str(other)}
    with (
        PrivateNetwork.create() as network,
        RayCluster.start(network, tmp_path / "ray", env=paths) as ray,
    ):
        env = {**ray.environment(), "STEPWELL_HOME": str(tmp_path / "home"), "PYTHONPATH": ""}
        done = subprocess.run(
            network.command([sys.executable, str(FLOWS / "fanout.py"), "run",
                             "--executor", "ray", "--ray-address", ray.address]),
            env=env, capture_output=True, text=True, timeout=240,
        )  # fmt: skip
    assert done.returncode == 1
    assert "runs stepwell 0.0.1-other" in done.stderr
    assert "install the same stepwell version on every node" in done.stderr


def test_a_node_that_cannot_see_a_local_datastore_is_refused(tmp_path: Path) -> None:
    from stepwell.testing.raycluster import RayCluster

    home = tmp_path / "home"  # the local datastore: blobs go to the home folder
    home.mkdir()
    with (
        PrivateNetwork.create() as network,
        RayCluster.start(network, tmp_path / "ray", num_cpus=1) as ray,
    ):
        ray.add_node(tmp_path / "ray", num_cpus=1, hide=(home,))  # another "machine"
        done = subprocess.run(
            network.command([sys.executable, str(FLOWS / "fanout.py"), "run",
                             "--executor", "ray", "--ray-address", ray.address]),
            env=ray.environment({"STEPWELL_HOME": str(home)}),
            capture_output=True, text=True, timeout=240,
        )  # fmt: skip
    assert done.returncode == 1
    assert f"does not see the local datastore {home}" in done.stderr
    assert "use the S3 datastore" in done.stderr


def test_nodes_without_credentials_for_the_s3_datastore_are_named_at_start(
    tmp_path: Path,
) -> None:
    from stepwell.testing.raycluster import RayCluster
    from stepwell.testing.s3server import S3Server

    with (
        PrivateNetwork.create() as network,
        S3Server.start(network=network) as s3,
        RayCluster.start(network, tmp_path / "ray", num_cpus=1) as ray,  # no AWS variables
    ):
        bucket = s3.new_bucket()
        env = ray.environment(
            {"STEPWELL_HOME": str(tmp_path / "home"), **s3.environment(bucket)}
        )  # the driver has credentials
        done = subprocess.run(
            network.command([sys.executable, str(FLOWS / "fanout.py"), "run",
                             "--executor", "ray", "--ray-address", ray.address]),
            env=env, capture_output=True, text=True, timeout=240,
        )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"cannot use the datastore s3://{bucket}" in done.stderr
    assert "No AWS credentials were found" in done.stderr
    assert "Workers use their own credentials" in done.stderr
    assert "Traceback" not in done.stderr
