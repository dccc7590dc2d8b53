"""--executor ray: orchestration overhead per task against bare Ray tasks; CPU-bound scaling.

Everything runs on a real 2-CPU Ray cluster (``ray start --head --num-cpus 2``)
and a moto S3 server, both in a private network namespace (loopback only; needs
root), as the tests do (``stepwell.testing.raycluster``).

1. Overhead per trivial task: ``flows/foreach1000.py`` (a foreach whose tasks
   each store one small artifact, and a join reading them all) run with
   ``--executor ray`` on the S3 datastore, with ``--n 1000`` and ``--n 1``; the
   per-task figure is the difference of the two driver processes' wall times
   divided by 999, so the fixed costs (interpreter, connecting to Ray, the
   per-node check, the workers' zygotes) cancel out. The baseline is the same
   difference for ``flows/ray_bare.py``: N bare Ray tasks that each put one
   100-byte object into the same S3 server with obstore (one client per worker
   process). Target: stepwell's per-task overhead <= 3x the bare one.
2. CPU-bound: ``flows/ray_cpu.py``, a foreach of 8 tasks of 2 CPU-seconds each
   on the 2-CPU cluster; the figure is the span from the first of those tasks
   starting to the last one finishing (task times from the run's metadata).
   Target: <= 1.25 x 8 s. The whole driver process's wall time is printed too.

    .venv/bin/python benchmarks/ray_executor.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from _common import (
    FLOWS_DIR,
    RESULTS_DIR,
    machine_info,
    median,
    prepare_bytecode,
    render_flow,
    run_env,
    scratch_dir,
    stepwell_tool,
    verdict,
    write_json,
)


def _timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[-6:])} failed:\n{done.stdout}\n{done.stderr}")
    return seconds


def _ray_env(cluster: object) -> dict[str, str]:
    """What a driver of the test cluster needs besides a run's environment."""
    env = cluster.env  # type: ignore[attr-defined]
    return {k: env[k] for k in ("HOME", "RAY_USAGE_STATS_ENABLED")}


def overhead(cluster: object, s3: object, scratch: Path, repeat: int) -> dict:
    network = cluster.network  # type: ignore[attr-defined]
    address = cluster.address  # type: ignore[attr-defined]
    bucket = s3.new_bucket()  # type: ignore[attr-defined]
    env = {**run_env(scratch), **_ray_env(cluster), **s3.environment(bucket)}  # type: ignore[attr-defined]
    flow = render_flow("foreach1000", stepwell_tool(), scratch / "flow")
    bare = FLOWS_DIR / "ray_bare.py"
    runs: dict[str, list[float]] = {"stepwell_1000": [], "stepwell_1": [], "bare_1000": [],
                                    "bare_1": []}  # fmt: skip
    for index in range(repeat):  # interleaved, so load changes hit both alike
        for n in (1000, 1):
            argv = [sys.executable, str(flow), "run", "--executor", "ray", "--ray-address",
                    address, "--n", str(n), "--quiet"]  # fmt: skip
            runs[f"stepwell_{n}"].append(_timed(network.command(argv), env))
            argv = [sys.executable, str(bare), address, str(n), bucket, s3.endpoint_url]  # type: ignore[attr-defined]
            runs[f"bare_{n}"].append(_timed(network.command(argv), env))
        print(f"  round {index + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in runs.items()),
              flush=True)  # fmt: skip
    medians = {k: median(v) for k, v in runs.items()}
    ours = (medians["stepwell_1000"] - medians["stepwell_1"]) / 999 * 1000  # type: ignore[operator]
    theirs = (medians["bare_1000"] - medians["bare_1"]) / 999 * 1000  # type: ignore[operator]
    ratio = ours / theirs if theirs > 0 else None
    return {"runs_s": runs, "medians_s": medians, "stepwell_ms_per_task": ours,
            "bare_ms_per_task": theirs, "ratio": ratio, "verdict": verdict(ratio, 3.0)}  # fmt: skip


def cpu_bound(cluster: object, scratch: Path, repeat: int) -> dict:
    from stepwell.metadata import SqliteMetadataStore

    network = cluster.network  # type: ignore[attr-defined]
    spans, walls = [], []
    for index in range(repeat):
        env = {**run_env(scratch / f"cpu{index}"), **_ray_env(cluster)}
        flow = render_flow("ray_cpu", stepwell_tool(), scratch / f"cpu{index}" / "flow")
        argv = [sys.executable, str(flow), "run", "--executor", "ray", "--ray-address",
                cluster.address, "--quiet"]  # type: ignore[attr-defined]  # fmt: skip
        walls.append(_timed(network.command(argv), env))
        store = SqliteMetadataStore(Path(env["STEPWELL_HOME"]) / "stepwell.db")
        (run,) = store.list_runs("RayCpuFlow", limit=1)
        tasks = store.list_tasks("RayCpuFlow", run.run_id, "work")
        store.close()
        spans.append(max(t.finished_at for t in tasks) - min(t.started_at for t in tasks))
        print(f"  round {index + 1}: 8 x 2 CPU-s span {spans[-1]:.2f} s, whole run "
              f"{walls[-1]:.2f} s", flush=True)  # fmt: skip
    span = median(spans)
    return {"spans_s": spans, "walls_s": walls, "span_s": span, "of_ideal": span / 8.0,  # type: ignore[operator]
            "verdict": verdict(span, 8.0 * 1.25)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    from stepwell.testing.raycluster import PrivateNetwork, RayCluster, network_namespaces_available
    from stepwell.testing.s3server import S3Server

    why = network_namespaces_available()
    if why is not None:
        print(f"Cannot run: Ray runs in a private network namespace here, and {why}.")
        return 1
    prepare_bytecode([stepwell_tool()])
    info = machine_info()
    with (
        scratch_dir() as scratch,
        PrivateNetwork.create() as network,
        S3Server.start(network=network) as s3,
        RayCluster.start(network, scratch / "ray", num_cpus=2, env=s3.credentials) as ray,
    ):
        print("overhead per trivial task (foreach of 1,000 vs of 1):", flush=True)
        found = {"overhead": overhead(ray, s3, scratch / "overhead", args.repeat)}
        print("CPU-bound foreach (8 x 2 CPU-seconds, 2 CPUs):", flush=True)
        found["cpu_bound"] = cpu_bound(ray, scratch, args.repeat)
    info["load_avg_1m_after"] = os.getloadavg()[0]
    over, cpu = found["overhead"], found["cpu_bound"]
    print(f"per trivial task on Ray: stepwell {over['stepwell_ms_per_task']:.2f} ms, bare Ray "
          f"tasks writing one S3 object {over['bare_ms_per_task']:.2f} ms: ratio "
          f"{over['ratio']:.2f} (target <= 3: {over['verdict']})")  # fmt: skip
    print(f"8 tasks x 2 CPU-seconds on 2 CPUs: {cpu['span_s']:.2f} s from the first task's "
          f"start to the last one's end, {cpu['of_ideal']:.2f} x 8 s (target <= 1.25: "
          f"{cpu['verdict']}); whole run {median(cpu['walls_s']):.2f} s")  # fmt: skip
    write_json(RESULTS_DIR / "ray_executor.json", {"machine": info, **found})
    return 0


if __name__ == "__main__":
    sys.exit(main())
