"""``Flow('X').latest_run.data.value`` in a fresh process, with 10,000 runs recorded.

Usage (from the project root):
    .venv/bin/python benchmarks/client_latest_run.py              # 10,000 runs, 7 repetitions
    .venv/bin/python benchmarks/client_latest_run.py --metadata postgres --repeat 5
    .venv/bin/python benchmarks/client_latest_run.py --runs 1000 --skip-metaflow

Each variant has its own scratch directory:

- stepwell on SQLite (``--metadata sqlite`` or ``both``, the default): 10,000
  runs of a trivial flow are written straight through ``SqliteMetadataStore``
  (``new_run``, ``record_tasks`` for start and end, ``finish_run``), then one
  real ``python flow.py run`` stores the artifact ``value = 42`` and becomes
  the latest run.
- stepwell on PostgreSQL (``--metadata postgres`` or ``both``): the same, through
  ``PostgresMetadataStore`` into a fresh database of a durable PostgreSQL 15
  (default fsync and synchronous_commit) that this script starts on 127.0.0.1
  and stops; the real run and every timed query have ``STEPWELL_METADATA`` set
  to its URL (blobs stay in the scratch directory's local datastore).
- Metaflow: one real run, then 10,000 more runs written in its local metadata
  layout (``.metaflow/X/<run id>/_meta/_self.json``, what listing runs
  reads), with older timestamps and smaller ids so the real run stays the
  latest. Task directories are not written for them: ``latest_run`` does not
  read them.

Then ``python -c "from <tool> import Flow; r = Flow('X').latest_run;
print(r.data.value)"`` is timed, repetitions interleaved between the variants,
after one warm-up query per variant that fills its bytecode cache (see
``env_for``); the figure is the median wall time and the ratio of each stepwell
variant to Metaflow's local metadata.
Target: ratio <= 1/10, on either metadata backend.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.dont_write_bytecode = True

from _common import (  # noqa: E402
    METAFLOW,
    Tool,
    median,
    metaflow_tool,
    new_metadata_database,
    postgres_server,
    prepare_bytecode,
    run_env,
    scratch_dir,
    stepwell_tool,
    time_process,
    verdict,
)

TARGET = 0.1
USER = "bench"
FLOW_SOURCE = """from stepwell import FlowSpec, step


class X(FlowSpec):
    @step
    def start(self):
        self.value = 42
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    X()
"""


@dataclass(frozen=True)
class Variant:
    """One thing timed: a tool in its scratch directory, and stepwell's metadata URL."""

    label: str
    tool: Tool
    scratch: Path
    metadata: str | None = None  # STEPWELL_METADATA: a postgresql:// URL, None for local

    def env(self) -> dict[str, str]:
        """The tools' environment, with bytecode cached under ``scratch`` for both.

        pip compiles an installed package's bytecode (Metaflow's venv has its .pyc
        files), but stepwell here is an editable checkout: with
        PYTHONDONTWRITEBYTECODE set (as on the shared machines), it would compile
        every module on every start. Both tools get a private pycache prefix
        instead, filled by one untimed warm-up query.
        """
        env = run_env(self.scratch)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(self.scratch / "pycache")
        env["STEPWELL_USER"] = USER
        env["USERNAME"] = USER
        if self.metadata:
            env["STEPWELL_METADATA"] = self.metadata
        return env


def real_run(variant: Variant) -> None:
    tool, scratch = variant.tool, variant.scratch
    flow = scratch / "flow.py"
    flow.write_text(FLOW_SOURCE.replace("from stepwell import", f"from {tool.name} import"))
    argv = [str(tool.python), str(flow), *tool.global_args, "run"]
    done = subprocess.run(argv, cwd=scratch, env=variant.env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{variant.label}: the real run failed:\n{done.stdout}\n{done.stderr}")


def fill_stepwell(variant: Variant, count: int) -> None:
    from stepwell.metadata import TaskOutcome, open_metadata

    home = variant.env()["STEPWELL_HOME"]
    store = open_metadata(variant.metadata or "local", home=home)  # Sqlite/PostgresMetadataStore
    for _ in range(count):
        run_id = store.new_run("X", user=USER, tags=[], system_tags=[f"user:{USER}"],
                               parameters={}, pid=os.getpid(), host="bench")  # fmt: skip
        store.record_tasks([
            TaskOutcome("X", run_id, "start", "1", 0, "succeeded", next_steps=["end"]),
            TaskOutcome("X", run_id, "end", "2", 0, "succeeded", parent_task_ids=["1"]),
        ])  # fmt: skip
        store.finish_run("X", run_id, "succeeded")
    store.close()


def fill_metaflow(scratch: Path, count: int) -> None:
    flow_dir = scratch / ".metaflow" / "X"
    [real] = [p for p in flow_dir.iterdir() if p.name.isdigit()]
    meta = json.loads((real / "_meta" / "_self.json").read_text())
    first_ms = int(meta["ts_epoch"]) - count * 1000 - 60_000
    for i in range(count):
        run_number = str(1_000_000_000_000_000 + i)  # below the real run's id
        run_meta = flow_dir / run_number / "_meta"
        run_meta.mkdir(parents=True)
        fake = {**meta, "run_number": run_number, "ts_epoch": first_ms + i * 1000}
        (run_meta / "_self.json").write_text(json.dumps(fake))


def fill(variant: Variant, count: int) -> None:
    started = time.perf_counter()
    if variant.tool.name == METAFLOW:
        real_run(variant)
        fill_metaflow(variant.scratch, count)
    else:
        fill_stepwell(variant, count)
        real_run(variant)
    seconds = time.perf_counter() - started
    print(f"{variant.label}: {count} runs + 1 real run recorded in {seconds:.1f} s", flush=True)


def query_argv(tool: Tool) -> list[str]:
    code = f"from {tool.name} import Flow; r = Flow('X').latest_run; print(r.data.value)"
    return [str(tool.python), "-c", code]


def time_query(variant: Variant) -> float:
    result = time_process(query_argv(variant.tool), cwd=variant.scratch, env=variant.env())
    if not result.ok or result.log_tail.strip().splitlines()[-1:] != ["42"]:
        raise SystemExit(f"{variant.label} query failed:\n{result.log_tail}")
    return result.seconds


def make_variants(args: argparse.Namespace, stack: contextlib.ExitStack) -> list[Variant]:
    sw = stepwell_tool()
    variants = []
    if args.metadata in ("sqlite", "both"):
        variants.append(Variant("stepwell-sqlite", sw, stack.enter_context(scratch_dir())))
    if args.metadata in ("postgres", "both"):
        url = new_metadata_database(stack.enter_context(postgres_server()))
        variants.append(Variant("stepwell-postgres", sw, stack.enter_context(scratch_dir()), url))
    if not args.skip_metaflow:
        variants.append(Variant(METAFLOW, metaflow_tool(), stack.enter_context(scratch_dir())))
    return variants


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000, help="runs to record (default 10000)")
    parser.add_argument("--repeat", type=int, default=7, help="timed repetitions (default 7)")
    parser.add_argument("--metadata", choices=("sqlite", "postgres", "both"), default="both",
                        help="stepwell's metadata backend(s) (default both)")  # fmt: skip
    parser.add_argument("--skip-metaflow", action="store_true")
    args = parser.parse_args()
    times: dict[str, list[float]] = {}
    with contextlib.ExitStack() as stack:
        variants = make_variants(args, stack)
        prepare_bytecode(list({v.tool.name: v.tool for v in variants}.values()))
        for variant in variants:
            fill(variant, args.runs)
        for variant in variants:  # warm-up: fills the bytecode cache; timed but not counted
            print(f"  warm-up {variant.label} (compiles bytecode): {time_query(variant):.3f} s")
        for rep in range(args.repeat):
            for variant in variants:
                seconds = time_query(variant)
                times.setdefault(variant.label, []).append(seconds)
                print(f"  rep {rep + 1} {variant.label}: {seconds:.3f} s", flush=True)
    report(times, args.runs)


def report(times: dict[str, list[float]], runs: int) -> None:
    print(f"\nFlow('X').latest_run.data.value, {runs} runs: median wall time, fresh process")
    medians = {label: median(values) for label, values in times.items()}
    for label, seconds in medians.items():
        print(f"  {label}: {seconds:.3f} s")
    mf = medians.get(METAFLOW)
    for label, sw in medians.items():
        if label == METAFLOW or not mf or not sw:
            continue
        ratio = sw / mf
        print(f"  ratio {label}/metaflow: {ratio:.3f} (1/{1 / ratio:.0f}); "
              f"target <= {TARGET}: {verdict(ratio, TARGET)}")  # fmt: skip


if __name__ == "__main__":
    main()
