"""Reading artifacts back through the Client API in a fresh process, stepwell vs Metaflow.

Usage (from the project root):
    .venv/bin/python benchmarks/client_read.py                 # 7 repetitions
    .venv/bin/python benchmarks/client_read.py --repeat 11 --skip-metaflow

For each tool, in its own scratch directory, one real ``python flow.py run``
stores two artifacts in its start step: ``df``, a 100 MiB DataFrame (4 x
3,276,800 random float64), and ``small``, the int 42. Then each of

    from <tool> import Flow; v = Flow('ReadFlow').latest_run['start'].task.data.df
    from <tool> import Flow; v = Flow('ReadFlow').latest_run['start'].task.data.small

is timed as a whole process (``python -c``: start-up, imports, metadata
lookup, the read), repetitions interleaved between the tools, after one
untimed warm-up of each that fills the bytecode cache and the page cache.
The figure is the median wall time; the ratio is stepwell / Metaflow.
Targets: DataFrame read <= 1/3 of Metaflow's, small read <= 1/4.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
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

TARGETS = {"df": 1 / 3, "small": 1 / 4}
FLOW_SOURCE = """import numpy as np
import pandas as pd

from stepwell import FlowSpec, step


class ReadFlow(FlowSpec):
    @step
    def start(self):
        rng = np.random.default_rng(0)
        self.df = pd.DataFrame(rng.random((3_276_800, 4)), columns=["a", "b", "c", "d"])
        self.small = 42
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ReadFlow()
"""
CHECKS = {"df": "v.shape == (3276800, 4)", "small": "v == 42"}


def real_run(tool: Tool, scratch: Path) -> None:
    flow = scratch / "flow.py"
    flow.write_text(FLOW_SOURCE.replace("from stepwell import", f"from {tool.name} import"))
    argv = [str(tool.python), str(flow), *tool.global_args, "run"]
    done = subprocess.run(argv, cwd=scratch, env=run_env(scratch), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{tool.name}: the run failed:\n{done.stdout}\n{done.stderr}")


def read_argv(tool: Tool, name: str) -> list[str]:
    code = (
        f"from {tool.name} import Flow; "
        f"v = Flow('ReadFlow').latest_run['start'].task.data.{name}; "
        f"print({CHECKS[name]})"
    )
    return [str(tool.python), "-c", code]


def time_read(tool: Tool, name: str, scratch: Path) -> float:
    result = time_process(read_argv(tool, name), cwd=scratch, env=run_env(scratch))
    if not result.ok or result.log_tail.strip().splitlines()[-1:] != ["True"]:
        raise SystemExit(f"{tool.name}: reading {name!r} failed:\n{result.log_tail}")
    return result.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed repetitions (default 7)")
    parser.add_argument("--skip-metaflow", action="store_true")
    args = parser.parse_args()
    tools = [stepwell_tool()] + ([] if args.skip_metaflow else [metaflow_tool()])
    prepare_bytecode(tools)
    times: dict[tuple[str, str], list[float]] = {}
    with scratch_dir() as sw_scratch, scratch_dir() as mf_scratch:
        scratches = {STEPWELL: sw_scratch, METAFLOW: mf_scratch}
        for tool in tools:
            real_run(tool, scratches[tool.name])
            for name in CHECKS:  # warm-up: bytecode and page cache, not counted
                time_read(tool, name, scratches[tool.name])
        for rep in range(args.repeat):
            for name in CHECKS:
                for tool in tools:
                    seconds = time_read(tool, name, scratches[tool.name])
                    times.setdefault((tool.name, name), []).append(seconds)
                    print(f"  rep {rep + 1} {name:<5} {tool.name:<9} {seconds:.3f} s", flush=True)
    report(times, [t.name for t in tools])


def report(times: dict[tuple[str, str], list[float]], tools: list[str]) -> None:
    print("\nClient API read in a fresh process: median wall time")
    for name, target in TARGETS.items():
        sw = median(times[(STEPWELL, name)])
        line = f"  {name:<5} stepwell {sw:.3f} s"
        if METAFLOW in tools:
            mf = median(times[(METAFLOW, name)])
            ratio = sw / mf if sw and mf else None
            shown = f"{ratio:.3f}" if ratio else "n/a"
            line += f", metaflow {mf:.3f} s, ratio {shown}, target <= 1/{round(1 / target)}: "
            line += verdict(ratio, target)
        print(line)


if __name__ == "__main__":
    main()
