"""Flows run on a real Ray cluster (``ray start --head``) with the S3 datastore."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests._polling import wait_for
from tests.ray.conftest import Cluster


def test_foreach_join_and_a_retried_failure_run_on_ray_workers(
    cluster: Cluster, home: Path
) -> None:
    done = cluster.run("fanout.py", "run", env=cluster.env(home))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "failed, will retry" in done.stderr
    result = cluster.client(
        """
        run = Flow("RayFanout").latest_run
        join = run["join"].task
        attempts = {t.data.item: t.current_attempt for t in run["square"]}
        result = {"ok": run.successful, "values": join.data.values, "places": join.data.places,
                  "attempts": attempts, "code": run.code is not None,
                  "log": run["square"].task.stdout, "tags": sorted(run.system_tags)}
        """,
        home,
    )
    assert result["ok"]
    assert result["values"] == [i * i for i in range(6)]
    workdir = cluster.ray.env["STEPWELL_RAY_WORKDIR"]
    # every task ran in the unpacked code package on a Ray worker, not in this checkout
    assert all(p["cwd"].startswith(f"{workdir}/code/") for p in result["places"])
    assert result["attempts"]["2"] == 1 and result["attempts"]["0"] == 0
    assert "squaring" in result["log"]


def test_logs_stream_back_while_the_task_runs(cluster: Cluster, home: Path, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    proc = cluster.popen("linger.py", "run", "--marks", str(marks), env=cluster.env(home))
    try:
        logs = home / "logs"
        # the driver writes each chunk as the worker yields it: the log grows mid-task
        found = wait_for(
            lambda: [p for p in logs.rglob("*") if p.is_file() and b"tick 2" in p.read_bytes()],
            timeout=120,
            what="the running task's output in its log",
        )
        assert found and (marks / "pid").exists()
        assert proc.poll() is None  # the task is still running
    finally:
        proc.send_signal(2)  # Ctrl-C: covered in test_ray_control
        proc.wait(timeout=120)


def test_decorators_reach_the_worker_and_resume_finishes_a_ray_run(
    cluster: Cluster, home: Path, tmp_path: Path
) -> None:
    flag = tmp_path / "fail"
    flag.write_text("x")
    first = cluster.run("decorated.py", "run", "--fail_flag", str(flag), env=cluster.env(home))
    assert first.returncode == 1, first.stdout + first.stderr
    assert "failing until the flag file is removed" in first.stderr
    # the secret reached the step, masked in its output, never in Ray's own files
    assert "token is ****" in first.stdout
    assert "s3cr3t-v4lue-42" not in first.stdout + first.stderr
    leaked = [
        p for p in cluster.ray.temp_dir.rglob("*")
        if p.is_file() and b"s3cr3t-v4lue-42" in p.read_bytes()
    ]  # fmt: skip
    assert leaked == []
    flag.unlink()
    second = cluster.run("decorated.py", "resume", env=cluster.env(home))
    assert second.returncode == 0, second.stdout + second.stderr
    result = cluster.client(
        """
        runs = list(Flow("RayDecorated").runs())
        latest, origin = runs[0], runs[1]
        start = latest["start"].task
        result = {"ok": latest.successful, "origin_ok": origin.successful,
                  "greeting": start.data.greeting, "token_seen": start.data.token_seen,
                  "nodes": latest["gather"].task.data.nodes,
                  "cloned": start.origin_pathspec is not None}
        """,
        home,
    )
    assert result["ok"] and not result["origin_ok"]
    assert result["greeting"] == "hello from the flow"
    assert result["token_seen"] is True
    assert result["nodes"] == [[0, 2, "127.0.0.1"], [1, 2, "127.0.0.1"]]
    assert result["cloned"]


def test_a_request_no_node_can_satisfy_is_rejected_before_the_run(
    cluster: Cluster, home: Path
) -> None:
    done = cluster.run("toobig.py", "run", env=cluster.env(home))
    assert done.returncode == 1
    assert "Step 'train' asks for cpu=64" in done.stderr
    assert "toobig.py:11" in done.stderr  # the step's def line
    assert "Traceback" not in done.stderr
    runs = cluster.client(
        """
        try:
            result = len(list(Flow("RayTooBig").runs()))
        except Exception:  # the flow has no run at all
            result = 0
        """,
        home,
    )
    assert runs == 0


def test_pypi_steps_run_in_environments_the_worker_rebuilds_from_the_packaged_lock(
    cluster: Cluster, home: Path
) -> None:
    from tests.environments._wheelhouse import DONE

    if not DONE.exists():
        if os.environ.get("STEPWELL_REQUIRE_WHEELHOUSE"):
            pytest.fail("the @pypi test wheels are missing: run tests/environments/_wheelhouse.py")
        pytest.skip("the @pypi test wheels are missing: run tests/environments/_wheelhouse.py")
    flow = str(Path(__file__).parents[1] / "flows" / "environments" / "pypi_flow.py")
    done = cluster.run(flow, "run", env=cluster.env(home))
    assert done.returncode == 0, done.stdout + done.stderr
    result = cluster.client(
        """
        run = Flow("PypiFlow").latest_run
        join = run["join"].task.data
        result = {"base_has": run["start"].task.data.base_has, "old": join.old_versions,
                  "old_prefixes": join.old_prefixes, "new": run["new"].task.data.new_version,
                  "new_prefix": run["new"].task.data.new_prefix}
        """,
        home,
    )
    built = f"{cluster.ray.env['STEPWELL_RAY_WORKDIR']}/environments/envs/"
    assert result["base_has"] is False
    assert result["old"] == ["1.0.0"] and result["new"] == "1.1.0"
    assert all(p.startswith(built) for p in [*result["old_prefixes"], result["new_prefix"]])


def test_the_main_example_runs_on_ray_by_one_option(cluster: Cluster, home: Path) -> None:
    example = Path(__file__).parents[2] / "examples" / "model_selection.py"
    done = cluster.run(str(example), "run", env=cluster.env(home))
    assert done.returncode == 0, done.stdout + done.stderr
    result = cluster.client(
        """
        from stepwell import get_cards
        run = Flow("ModelSelectionFlow").latest_run
        choose = run["choose"].task
        card = get_cards(choose, id="leaderboard")[0].get()
        result = {"ok": run.successful, "models": len(list(run["train"])),
                  "best": choose.data.best_name, "card": choose.data.best_name in card}
        """,
        home,
    )
    assert result["ok"] and result["models"] >= 4 and result["best"] and result["card"]
