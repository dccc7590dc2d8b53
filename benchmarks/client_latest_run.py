"""``Flow('X').latest_run.data.value`` in a fresh process, with 10,000 runs recorded.

Usage (from the project root):
    .venv/bin/python benchmarks/client_latest_run.py              # 10,000 runs, 7 repetitions
    .venv/bin/python benchmarks/client_latest_run.py --runs 1000 --repeat 5 --skip-metaflow

For each tool, in its own scratch directory:

- stepwell: 10,000 runs of a trivial flow are written straight through
  ``SqliteMetadataStore`` (``new_run``, ``record_tasks`` for start and end,
  ``finish_run``), then one real ``python flow.py run`` stores the artifact
  ``value = 42`` and becomes the latest run.
- Metaflow: one real run, then 10,000 more runs written in its local metadata
  layout (``.metaflow/X/<run id>/_meta/_self.json``, what listing runs
  reads), with older timestamps and smaller ids so the real run stays the
  latest. Task directories are not written for them: ``latest_run`` does not
  read them.

Then ``python -c "from <tool> import Flow; r = Flow('X').latest_run;
print(r.data.value)"`` is timed, repetitions interleaved between the tools,
after one warm-up query per tool that fills its bytecode cache (see
``env_for``); the figure is the median wall time and the ratio stepwell /
Metaflow.
Target: ratio <= 1/10.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True

from _common import (  # noqa: E402
    METAFLOW,
    STEPWELL,
    Tool,
    median,
    metaflow_tool,
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


def env_for(scratch: Path) -> dict[str, str]:
    """The tools' environment, with bytecode cached under ``scratch`` for both.

    pip compiles an installed package's bytecode (Metaflow's venv has its .pyc
    files), but stepwell here is an editable checkout: with
    PYTHONDONTWRITEBYTECODE set (as on the shared machines), it would compile
    every module on every start. Both tools get a private pycache prefix
    instead, filled by one untimed warm-up query.
    """
    env = run_env(scratch)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
    env["STEPWELL_USER"] = USER
    env["USERNAME"] = USER
    return env


def write_flow(tool: Tool, scratch: Path) -> Path:
    source = FLOW_SOURCE.replace("from stepwell import", f"from {tool.name} import")
    path = scratch / "flow.py"
    path.write_text(source)
    return path


def real_run(tool: Tool, scratch: Path) -> None:
    flow = write_flow(tool, scratch)
    argv = [str(tool.python), str(flow), *tool.global_args, "run"]
    done = subprocess.run(argv, cwd=scratch, env=env_for(scratch), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{tool.name}: the real run failed:\n{done.stdout}\n{done.stderr}")


def fill_stepwell(scratch: Path, count: int) -> None:
    from stepwell.metadata import SqliteMetadataStore, TaskOutcome

    home = Path(env_for(scratch)["STEPWELL_HOME"])
    store = SqliteMetadataStore(home / "stepwell.db")
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


def query_argv(tool: Tool) -> list[str]:
    code = f"from {tool.name} import Flow; r = Flow('X').latest_run; print(r.data.value)"
    return [str(tool.python), "-c", code]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000, help="runs to record (default 10000)")
    parser.add_argument("--repeat", type=int, default=7, help="timed repetitions (default 7)")
    parser.add_argument("--skip-metaflow", action="store_true")
    args = parser.parse_args()
    tools = [stepwell_tool()] + ([] if args.skip_metaflow else [metaflow_tool()])
    prepare_bytecode(tools)
    times: dict[str, list[float]] = {tool.name: [] for tool in tools}
    with scratch_dir() as sw_scratch, scratch_dir() as mf_scratch:
        scratches = {STEPWELL: sw_scratch, METAFLOW: mf_scratch}
        for tool in tools:
            started = time.perf_counter()
            if tool.name == STEPWELL:
                fill_stepwell(sw_scratch, args.runs)
                real_run(tool, sw_scratch)
            else:
                real_run(tool, mf_scratch)
                fill_metaflow(mf_scratch, args.runs)
            print(f"{tool.name}: {args.runs} runs + 1 real run recorded in "
                  f"{time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip
        for tool in tools:  # warm-up: fills the bytecode cache; timed but not counted
            scratch = scratches[tool.name]
            cold = time_process(query_argv(tool), cwd=scratch, env=env_for(scratch))
            print(f"  warm-up {tool.name} (compiles bytecode): {cold.seconds:.3f} s", flush=True)
        for rep in range(args.repeat):
            for tool in tools:
                scratch = scratches[tool.name]
                result = time_process(query_argv(tool), cwd=scratch, env=env_for(scratch))
                if not result.ok or result.log_tail.strip().splitlines()[-1:] != ["42"]:
                    raise SystemExit(f"{tool.name} query failed:\n{result.log_tail}")
                times[tool.name].append(result.seconds)
                print(f"  rep {rep + 1} {tool.name}: {result.seconds:.3f} s", flush=True)
    report(times, args.runs)


def report(times: dict[str, list[float]], runs: int) -> None:
    sw = median(times[STEPWELL])
    print(f"\nFlow('X').latest_run.data.value, {runs} runs: median wall time, fresh process")
    print(f"  stepwell: {sw:.3f} s")
    if METAFLOW in times:
        mf = median(times[METAFLOW])
        ratio = sw / mf if sw and mf else None
        print(f"  metaflow: {mf:.3f} s")
        shown = f"{ratio:.3f} (1/{1 / ratio:.0f})" if ratio else "n/a"
        print(f"  ratio stepwell/metaflow: {shown}; target <= {TARGET}: {verdict(ratio, TARGET)}")


if __name__ == "__main__":
    main()
