"""Task records from concurrent runs into the metadata store: tasks/s sustained, per backend.

Usage (from the project root):
    .venv/bin/python benchmarks/metadata_write.py                 # 8 x 2,000 tasks, 3 reps
    .venv/bin/python benchmarks/metadata_write.py --metadata postgres --batch 16 --repeat 5
    .venv/bin/python benchmarks/metadata_write.py --processes 4 --tasks 500

``--processes`` (8) processes, forked with multiprocessing, each open the store
(connection, and PostgreSQL's pool, opened before the clock starts), wait at a
barrier, then write one run as the runtime does: ``new_run``; the start task's
``record_tasks``; then ``--tasks`` (2,000) foreach tasks in batches of ``B``, a
batch per scheduler wake-up: ``register_tasks`` of ``B`` launches (one parent,
the foreach frame, its index), then ``record_tasks`` of their ``B`` outcomes
(3 artifacts ``ArtifactRecord(name, key, 'pickle', 'builtins.int', size,
'{"protocol": 5}')``, 2 task metadata entries, 1 parent, 2 reads); finally
``finish_run``. Two transactions per batch; ``B`` is 1 and 16 (``--batch``).

Wall time runs from the first process's first write to the last process's last
commit (``time.monotonic``, one clock for every process); tasks/s = processes x
tasks / wall. Backends: SQLite, a fresh file in a temporary directory
(``SqliteMetadataStore``: WAL, ``synchronous=NORMAL``, so no fsync per commit);
PostgreSQL, a fresh database per case on one durable PostgreSQL 15 (default
fsync and synchronous_commit: every commit waits for its WAL flush) that this
script starts on 127.0.0.1 and stops. Cases are interleaved across repetitions;
figures are medians. Target: >= 1,000 tasks/s into PostgreSQL.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import multiprocessing
import queue
import sys
import time
from pathlib import Path
from typing import Any

from _common import median, new_metadata_database, postgres_server, scratch_dir, verdict

TARGET = 1000.0  # tasks/s into PostgreSQL
FLOW = "WriteFlow"


def _key(*parts: object) -> str:
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()


def launches(run_id: str, first: int, count: int, width: int) -> list[Any]:
    from stepwell.metadata import TaskLaunch

    now = time.time()
    return [
        TaskLaunch(FLOW, run_id, "work", str(i + 2), 0, parent_task_ids=("1",),
                   foreach_stack=json.dumps([["1", "foreach", i, width]]), index=i,
                   started_at=now)
        for i in range(first, first + count)
    ]  # fmt: skip


def outcomes(run_id: str, first: int, count: int, width: int) -> list[Any]:
    from stepwell.metadata import ArtifactRecord, TaskOutcome

    now, items = time.time(), _key(run_id, "items")
    meta = '{"protocol": 5}'
    return [
        TaskOutcome(
            FLOW, run_id, "work", str(i + 2), 0, "succeeded", finished_at=now,
            started_at=now - 0.01, parent_task_ids=("1",),
            artifacts=[ArtifactRecord(name, _key(run_id, i, name), "pickle", "builtins.int",
                                      21, meta) for name in ("out", "input", "_foreach_index")],
            metadata={"transition": "{}", "attempt_host": '"bench"'},
            foreach_stack=json.dumps([["1", "foreach", i, width]]), index=i,
            next_steps=("join",), reads=[("items", items), ("offset", _key(run_id, "offset"))],
        )
        for i in range(first, first + count)
    ]  # fmt: skip


def write_run(store: Any, tasks: int, batch: int) -> None:
    """One run, as the runtime records it: start, then ``tasks`` in batches of ``batch``."""
    from stepwell.metadata import TaskOutcome

    run_id = store.new_run(FLOW, user="bench", tags=[], system_tags=["user:bench"],
                           parameters={}, pid=1, host="bench")  # fmt: skip
    store.record_tasks([TaskOutcome(FLOW, run_id, "start", "1", 0, "succeeded",
                                    next_steps=("work",), split_count=tasks)])  # fmt: skip
    for first in range(0, tasks, batch):
        count = min(batch, tasks - first)
        store.register_tasks(launches(run_id, first, count, tasks))
        store.record_tasks(outcomes(run_id, first, count, tasks))
    store.finish_run(FLOW, run_id, "succeeded")


def writer(url: str, home: str, tasks: int, batch: int, barrier: Any, results: Any) -> None:
    """A forked process: open the store, wait for the others, write a run; report its span."""
    from stepwell.metadata import open_metadata

    store = open_metadata(url, home=home)
    store.list_flows()  # connection (and pool) open before the clock starts
    barrier.wait(timeout=60)
    started = time.monotonic()
    write_run(store, tasks, batch)
    results.put((started, time.monotonic()))
    store.close()


def run_case(url: str, home: Path, args: argparse.Namespace, batch: int) -> float:
    """Wall seconds for ``args.processes`` concurrent runs into the store ``url`` names."""
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(args.processes), ctx.Queue()
    procs = [
        ctx.Process(target=writer, args=(url, str(home), args.tasks, batch, barrier, results))
        for _ in range(args.processes)
    ]
    for proc in procs:
        proc.start()
    spans = _collect(procs, results)
    for proc in procs:
        proc.join()
    return max(end for _, end in spans) - min(start for start, _ in spans)


def _collect(procs: list[Any], results: Any) -> list[tuple[float, float]]:
    """Every writer's (start, end); stops at the first writer that failed."""
    spans: list[tuple[float, float]] = []
    while len(spans) < len(procs):
        with contextlib.suppress(queue.Empty):
            spans.append(results.get(timeout=1.0))
            continue
        failed = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
        if failed:
            for proc in procs:
                proc.kill()
            raise SystemExit(f"a writer failed (exit code {failed[0]}); see its traceback above")
    return spans


def fresh_store(label: str, server: Any, scratch: Path) -> tuple[str, Path]:
    """(metadata URL, STEPWELL_HOME) of an empty store with its schema."""
    from stepwell.metadata import open_metadata

    home = Path(scratch) / f"home-{time.monotonic_ns()}"
    if label == "postgres":
        return new_metadata_database(server), home
    store = open_metadata("local", home=home)  # SQLite: the schema is created on open
    store.list_flows()
    store.close()
    return "local", home


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=8, help="concurrent runs (default 8)")
    parser.add_argument("--tasks", type=int, default=2000, help="tasks per run (default 2000)")
    parser.add_argument("--batch", type=int, action="append", help="batch sizes (default 1, 16)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument("--metadata", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    batches = args.batch or [1, 16]
    labels = [b for b in ("sqlite", "postgres") if args.metadata in (b, "both")]
    walls: dict[tuple[str, int], list[float]] = {}
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(postgres_server()) if "postgres" in labels else None
        scratch = stack.enter_context(scratch_dir())
        for rep in range(args.repeat):
            for batch in batches:
                for label in labels:
                    url, home = fresh_store(label, server, scratch)
                    wall = run_case(url, home, args, batch)
                    walls.setdefault((label, batch), []).append(wall)
                    rate = args.processes * args.tasks / wall
                    print(f"  rep {rep + 1} {label:8s} batch {batch:3d}: {wall:6.2f} s "
                          f"{rate:7.0f} tasks/s", flush=True)  # fmt: skip
    report(walls, args)
    return 0


def report(walls: dict[tuple[str, int], list[float]], args: argparse.Namespace) -> None:
    total = args.processes * args.tasks
    print(f"\n{args.processes} concurrent runs x {args.tasks:,} tasks ({total:,} tasks), "
          f"median of {args.repeat}\n")  # fmt: skip
    print("| backend | batch | wall (s) | tasks/s | commits/s | target | met |")
    print("|---|---:|---:|---:|---:|---|---|")
    for (label, batch), values in walls.items():
        wall = median(values)
        rate = total / wall
        commits = args.processes * (2 * -(-args.tasks // batch) + 3) / wall
        target, met = ("≥ 1,000 tasks/s", verdict(rate, TARGET, at_least=True))
        if label != "postgres":
            target, met = "—", "—"
        print(f"| {label} | {batch} | {wall:.2f} | {rate:,.0f} | {commits:,.0f} | {target} "
              f"| {met} |")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
