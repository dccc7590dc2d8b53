"""The web UI's JSON API over HTTP on big stores, on SQLite and on PostgreSQL metadata.

Usage (from the project root):
    .venv/bin/python benchmarks/ui_speed.py                       # both backends, 5 rounds
    .venv/bin/python benchmarks/ui_speed.py --metadata postgres --repeat 3

Each backend's store gets a flow with 10,000 finished runs (``BigFlow``: ``new_run``
+ ``finish_run`` each, one system tag) and one run of a 10,000-task foreach
(``WideFlow``: start + 10,000 tasks, one ``record_tasks``). SQLite is a fresh
file in a temporary ``STEPWELL_HOME``; PostgreSQL a fresh database of a durable
PostgreSQL 15 (default fsync and synchronous_commit) that this script starts on
127.0.0.1 and stops.

In this process, one server from ``stepwell.ui.make_server(port=0)`` (loopback,
no token: open access) serves from a thread, and ``urllib`` times GETs of:

- the first page of 100 runs: ``/api/flows/BigFlow/runs?limit=100``; target <= 50 ms;
- the last page of 100 runs: ``...?limit=100&offset=9900``;
- the run page of the foreach: ``/api/runs/WideFlow/<id>``; target < 1 s.

The backend the server reads is chosen by ``STEPWELL_HOME`` / ``STEPWELL_METADATA``
in this process's environment (the client rebuilds its backend when they change).
Rounds alternate the backends: each round, for each backend, one untimed GET (the
backend opens its connection), then ``--per-round`` timed GETs of each URL. The
figures are medians over every timed GET.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from _common import median, new_metadata_database, postgres_server, scratch_dir, verdict

PAGE = 100
Times = dict[str, dict[str, list[float]]]  # backend -> URL name -> seconds
TARGETS = {"runs page (first 100)": 0.050, "run page of the foreach": 1.0}


def fill(home: Path, url: str | None, runs: int, tasks: int) -> str:
    """Record the two flows through the backend's store; the foreach run's id."""
    from stepwell.metadata import TaskOutcome, open_metadata

    meta = open_metadata(url or "local", home=home)
    new = dict(user="bench", tags=(), system_tags=("user:bench",), parameters={}, pid=1, host="h")
    for _ in range(runs):
        meta.finish_run("BigFlow", meta.new_run("BigFlow", **new), "succeeded")
    run_id = meta.new_run("WideFlow", **new)
    base = dict(started_at=1.0, finished_at=2.0)
    outcomes = [TaskOutcome("WideFlow", run_id, "start", "0", 0, "succeeded",
                         next_steps=("work",), split_count=tasks, **base)]  # fmt: skip
    outcomes += [TaskOutcome("WideFlow", run_id, "work", str(i + 1), 0, "succeeded", index=i,
                          next_steps=("join",), **base) for i in range(tasks)]  # fmt: skip
    meta.record_tasks(outcomes)
    meta.finish_run("WideFlow", run_id, "succeeded")
    meta.close()
    return run_id


@contextlib.contextmanager
def stores(which: str, runs: int, tasks: int) -> Iterator[dict[str, tuple[Path, str | None, str]]]:
    """Filled stores by backend label: (STEPWELL_HOME, metadata URL or None, foreach run id)."""
    with contextlib.ExitStack() as stack:
        found = {}
        for label in ("sqlite", "postgres"):
            if which not in (label, "both"):
                continue
            home = stack.enter_context(scratch_dir())
            url = None
            if label == "postgres":
                url = new_metadata_database(stack.enter_context(postgres_server()))
            started = time.perf_counter()
            found[label] = (home, url, fill(home, url, runs, tasks))
            print(f"{label}: {runs:,} runs + a {tasks:,}-task run recorded in "
                  f"{time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip
        yield found


def use_backend(home: Path, url: str | None) -> None:
    """Point this process's client (the UI's reads) at one store."""
    os.environ["STEPWELL_HOME"] = str(home)
    if url:
        os.environ["STEPWELL_METADATA"] = url
    else:
        os.environ.pop("STEPWELL_METADATA", None)


def get(url: str) -> float:
    """Seconds for one GET (status 200, body read and parsed)."""
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as response:
        body = response.read()
    seconds = time.perf_counter() - started
    json.loads(body)
    return seconds


def endpoints(base: str, wide_run: str, runs: int) -> dict[str, str]:
    page = f"{base}api/flows/BigFlow/runs?limit={PAGE}"
    return {
        "runs page (first 100)": page,
        "runs page (last 100)": f"{page}&offset={max(runs - PAGE, 0)}",
        "run page of the foreach": f"{base}api/runs/WideFlow/{wide_run}",
    }


def measure(found: dict, runs: int, repeat: int, per_round: int) -> Times:
    from stepwell.ui import make_server

    server = make_server(port=0)  # loopback, no token: open access
    server.start_in_thread()
    times: Times = {label: {} for label in found}
    try:
        for rnd in range(repeat):
            for label, (home, url, wide_run) in found.items():
                use_backend(home, url)
                urls = endpoints(server.url, wide_run, runs)
                get(urls["runs page (first 100)"])  # untimed: the backend opens its connection
                for name, address in urls.items():
                    samples = [get(address) for _ in range(per_round)]
                    times[label].setdefault(name, []).extend(samples)
            print(f"  round {rnd + 1}/{repeat} done", flush=True)
    finally:
        server.shutdown()
        server.server_close()
    return times


def report(times: Times) -> None:
    labels = list(times)
    print(f"\nUI JSON API over HTTP, in-process: median ms ({', '.join(labels)})")
    for name in next(iter(times.values())):
        cells = []
        for label in labels:
            ms = median(times[label][name]) * 1000
            target = TARGETS.get(name)
            mark = f" ({verdict(ms / 1000, target)})" if target else ""
            cells.append(f"{label} {ms:7.1f} ms{mark}")
        target = TARGETS.get(name)
        shown = f"target <= {target * 1000:g} ms" if target else "no target"
        print(f"  {name:30s} " + "   ".join(cells) + f"   [{shown}]")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metadata", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--runs", type=int, default=10_000, help="runs of BigFlow (default 10000)")
    parser.add_argument("--tasks", type=int, default=10_000, help="foreach tasks (default 10000)")
    parser.add_argument("--repeat", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--per-round", type=int, default=3, help="timed GETs per URL per round")
    args = parser.parse_args()
    for name in [n for n in os.environ if n.startswith(("STEPWELL_", "METAFLOW_"))]:
        del os.environ[name]  # the caller's settings must not choose the store
    with stores(args.metadata, args.runs, args.tasks) as found:
        times = measure(found, args.runs, args.repeat, args.per_round)
    report(times)
    return 0


if __name__ == "__main__":
    sys.exit(main())
