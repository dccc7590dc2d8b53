"""The local scheduler: event-to-run latency, and idle CPU with 100 deployments.

stepwell only: Metaflow has no scheduler of its own (it compiles to Argo,
Step Functions or Airflow), so there is nothing to run side by side here.

1. Latency: ``flows/sched_event.py`` (a trivial ``@trigger(event="bench_go")``
   flow) is deployed and a real ``stepwell scheduler`` (default tick, 0.5 s)
   started; after one untimed warm-up event, ``--events`` events are published
   one at a time with ``stepwell.publish_event``, each after the previous run
   ended. The figure is the time from the event's ``published_at`` to its run's
   start task starting (``started_at`` of that task), median. Target: <= 1 s.
2. Idle: 100 deployments with a schedule that is not due (yearly) and no
   events; the scheduler's CPU time (user + system, from ``/proc``) over
   ``--idle`` seconds after a 3 s settle, as a share of one CPU. Target: < 1%.

Everything is written in one scratch directory, removed afterwards.

    .venv/bin/python benchmarks/scheduler.py [--events 15] [--idle 30]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from _common import (
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

TICKS = os.sysconf("SC_CLK_TCK")


def _scheduler(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "stepwell.cli", "scheduler"], env=env,
                            stdout=subprocess.DEVNULL, stderr=log.open("wb"))  # fmt: skip


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def _start_of_run(store: object, published: float, timeout: float = 60.0) -> float | None:
    """Seconds from ``published`` to the start task of the run that event started."""
    from stepwell.exceptions import NotFoundError

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            runs = store.list_runs("SchedEventFlow", limit=1)  # type: ignore[attr-defined]
        except NotFoundError:  # no run of the flow yet
            runs = []
        for run in runs:
            if run.started_at >= published and run.status != "running":
                tasks = store.list_tasks("SchedEventFlow", run.run_id, "start")  # type: ignore[attr-defined]
                return tasks[0].started_at - published if tasks else None
        time.sleep(0.05)
    return None


def latency(scratch: Path, events: int) -> dict:
    from stepwell import publish_event
    from stepwell.config import load_settings
    from stepwell.metadata import SqliteMetadataStore

    env = run_env(scratch)
    Path(env["STEPWELL_HOME"]).mkdir(parents=True)
    flow = render_flow("sched_event", stepwell_tool(), scratch / "flow")
    subprocess.run([sys.executable, str(flow), "deploy"], env=env, check=True,
                   capture_output=True)  # fmt: skip
    settings = load_settings(env=env)
    store = SqliteMetadataStore(Path(env["STEPWELL_HOME"]) / "stepwell.db")
    proc = _scheduler(env, scratch / "latency.log")
    seconds: list[float] = []
    try:
        for index in range(events + 1):
            record = publish_event("bench_go", {"i": index}, settings=settings)
            found = _start_of_run(store, record.published_at)
            if found is None:
                print(f"event {index}: no run started", file=sys.stderr)
            elif index:  # the first one warms up the scheduler and the bytecode
                seconds.append(found)
            time.sleep(0.3)
    finally:
        _stop(proc)
    return {"events": events, "seconds": seconds, "median_s": median(seconds),
            "verdict": verdict(median(seconds), 1.0)}  # fmt: skip


def idle(scratch: Path, seconds: float) -> dict:
    from stepwell.metadata import SqliteMetadataStore

    env = run_env(scratch)
    Path(env["STEPWELL_HOME"]).mkdir(parents=True)
    store = SqliteMetadataStore(Path(env["STEPWELL_HOME"]) / "stepwell.db")
    spec = {"code_key": "0" * 64, "datastore": str(scratch), "script": "flow.py",
            "flow_name": "IdleFlow", "parameters": {}, "events": [], "after_flows": [],
            "schedule": {"cron": "0 0 1 1 *", "timezone": "UTC"}, "project": None}  # fmt: skip
    for index in range(100):
        store.save_deployment(f"Idle{index:03d}", "IdleFlow", spec, user="bench")
    store.close()
    proc = _scheduler(env, scratch / "idle.log")
    try:
        time.sleep(3.0)
        before, started = _cpu_seconds(proc.pid), time.monotonic()
        time.sleep(seconds)
        used, wall = _cpu_seconds(proc.pid) - before, time.monotonic() - started
    finally:
        _stop(proc)
    share = 100 * used / wall
    return {"deployments": 100, "wall_s": wall, "cpu_s": used, "cpu_percent": share,
            "verdict": verdict(share, 1.0)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=15)
    parser.add_argument("--idle", type=float, default=30.0, help="seconds of idle measured")
    args = parser.parse_args(argv)
    prepare_bytecode([stepwell_tool()])
    info = machine_info()
    with scratch_dir() as scratch:
        found = {"latency": latency(scratch / "latency", args.events),
                 "idle": idle(scratch / "idle", args.idle)}  # fmt: skip
    info["load_avg_1m_after"] = os.getloadavg()[0]
    lat, quiet = found["latency"], found["idle"]
    print(f"event published -> its run's start task running: median {lat['median_s']:.3f} s "
          f"over {len(lat['seconds'])} events (target <= 1 s: {lat['verdict']}); "
          f"min {min(lat['seconds']):.3f}, max {max(lat['seconds']):.3f}")  # fmt: skip
    print(f"idle with 100 deployments: {quiet['cpu_percent']:.2f}% of one CPU over "
          f"{quiet['wall_s']:.0f} s (target < 1%: {quiet['verdict']})")  # fmt: skip
    print("Metaflow: no local scheduler to compare with (it deploys to Argo/Step Functions)")
    write_json(RESULTS_DIR / "scheduler.json", {"machine": info, **found})
    return 0


if __name__ == "__main__":
    sys.exit(main())
