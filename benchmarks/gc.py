"""``stepwell gc`` over 10,000 runs / 1,000,000 blobs: time and peak memory of one pass.

Usage (from the project root):
    .venv/bin/python benchmarks/gc.py                          # 10,000 runs, 1,000,000 blobs
    .venv/bin/python benchmarks/gc.py --runs 1000 --blobs 100000
    .venv/bin/python benchmarks/gc.py --home /tmp/gc-bench --keep-home   # build once ...
    .venv/bin/python benchmarks/gc.py --home /tmp/gc-bench --reuse       # ... time again

The store is synthesized, not run: ``--runs`` runs of one flow are written
straight through ``SqliteMetadataStore`` (``new_run``; ``record_tasks`` of 10
tasks with ``blobs / runs / 10`` artifacts each, plus one artifact every run
shares; ``finish_run``), and every blob is a 16-byte file written through
``LocalStorage.save_bytes`` under its key (keys are random, not hashes: the
collector never reads a blob). Building 1,000,000 blobs takes a few minutes.

Then one pass ``--keep-last runs/2`` (grace 0) runs in a fresh process: it
deletes half the runs and frees the half of the blobs only they used. The
figures are that process's wall time and peak RSS (``ru_maxrss``).
Target: under 60 s and under 500 MB at 10,000 runs / 1,000,000 blobs.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

FLOW = "BenchFlow"
TASKS_PER_RUN = 10
TARGET_SECONDS, TARGET_MB = 60.0, 500.0


def build(home: Path, runs: int, blobs: int) -> None:
    from stepwell.metadata import ArtifactRecord, SqliteMetadataStore, TaskOutcome
    from stepwell.store import LocalStorage

    per_task = max(1, blobs // runs // TASKS_PER_RUN)
    storage = LocalStorage(home)
    store = SqliteMetadataStore(home / "stepwell.db", clock=time.time)
    shared = secrets.token_hex(32)
    storage.save_bytes(f"objects/{shared[:2]}/{shared[2:]}", b"shared-blob-0000")
    started, written = time.time(), 0
    with ThreadPoolExecutor(8) as pool:
        for n in range(runs):
            keys = [secrets.token_hex(32) for _ in range(per_task * TASKS_PER_RUN)]
            saves = pool.map(
                lambda k: storage.save_bytes(f"objects/{k[:2]}/{k[2:]}", k[:16].encode()), keys
            )
            run_id = store.new_run(
                FLOW, user="bench", tags=[], system_tags=[], parameters={}, pid=os.getpid(),
                host="bench", datastore=str(home),
            )  # fmt: skip
            outcomes = []
            for t in range(TASKS_PER_RUN):
                mine = keys[t * per_task : (t + 1) * per_task]
                arts = [ArtifactRecord(f"a{i}", k, "pickle", "bytes", 16, "{}")
                        for i, k in enumerate(mine)]  # fmt: skip
                if t == 0:
                    arts.append(ArtifactRecord("shared", shared, "pickle", "bytes", 16, "{}"))
                outcomes.append(TaskOutcome(FLOW, run_id, "step", str(t + 1), 0, "succeeded",
                                            artifacts=arts))  # fmt: skip
            store.record_tasks(outcomes)
            store.finish_run(FLOW, run_id, "succeeded")
            list(saves)
            written += len(keys)
            if (n + 1) % max(1, runs // 20) == 0:
                rate = written / (time.time() - started)
                print(
                    f"  built {n + 1:,} runs, {written:,} blobs ({rate:,.0f} blobs/s)", flush=True
                )
    store.close()


def collect(home: Path, keep_last: int) -> None:
    """One pass (the timed child): print its figures as JSON."""
    import resource

    started = time.perf_counter()
    from stepwell.metadata import SqliteMetadataStore
    from stepwell.runtime._gc import GarbageCollector, plan_gc
    from stepwell.runtime._retention import Retention
    from stepwell.store import open_storage

    store = SqliteMetadataStore(home / "stepwell.db", clock=time.time)
    plan = plan_gc(store, Retention(keep_last=keep_last), default_datastore=str(home),
                   now=time.time())  # fmt: skip
    planned = time.perf_counter() - started
    report = GarbageCollector(store, home=home, open_storage=open_storage, grace=0).run(plan)
    print(json.dumps({
        "seconds": time.perf_counter() - started,
        "plan_seconds": planned,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "runs_deleted": sum(len(v) for v in report.runs_deleted.values()),
        "blobs_freed": report.blobs.count,
        "blobs_kept": report.blobs_referenced,
        "phases": report.phases,
    }))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--blobs", type=int, default=1_000_000)
    parser.add_argument("--home", type=Path, default=None, help="Build here (default: a temp dir).")
    parser.add_argument("--reuse", action="store_true", help="Time a pass over --home as built.")
    parser.add_argument("--keep-home", action="store_true", help="Do not remove --home after.")
    parser.add_argument("--collect", type=Path, help=argparse.SUPPRESS)  # the timed child
    parser.add_argument("--keep-last", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.collect:
        collect(args.collect, args.keep_last)
        return
    home = args.home or Path(tempfile.mkdtemp(prefix="stepwell-gc-bench-"))
    try:
        if not args.reuse:
            print(f"Building {args.runs:,} runs / {args.blobs:,} blobs in {home} ...", flush=True)
            t0 = time.time()
            build(home, args.runs, args.blobs)
            print(f"  built in {time.time() - t0:.0f} s", flush=True)
            subprocess.run(["sync"], check=False)
        child = [sys.executable, __file__, "--collect", str(home),
                 "--keep-last", str(args.runs // 2)]  # fmt: skip
        out = subprocess.run(child, capture_output=True, text=True, check=True).stdout
        figures = json.loads(out.strip().splitlines()[-1])
        ok = figures["seconds"] < TARGET_SECONDS and figures["peak_mb"] < TARGET_MB
        print(
            f"gc over {args.runs:,} runs / {args.blobs:,} blobs: deleted "
            f"{figures['runs_deleted']:,} runs, freed {figures['blobs_freed']:,} blobs, kept "
            f"{figures['blobs_kept']:,}; {figures['seconds']:.1f} s (plan "
            f"{figures['plan_seconds']:.1f} s), peak RSS {figures['peak_mb']:.0f} MB "
            f"(target < {TARGET_SECONDS:.0f} s, < {TARGET_MB:.0f} MB: "
            f"{'met' if ok else 'NOT met'})"
        )
        phases = ", ".join(f"{k} {v:.1f} s" for k, v in figures["phases"].items())
        print(f"  phases: {phases}")
    finally:
        if not args.keep_home:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
