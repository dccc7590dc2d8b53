"""Time ``python flow.py check`` on the chain20 flow (target: under 300 ms for stepwell).

The median of ``--repeat`` runs (default 10), each a fresh process in a fresh
scratch directory; Metaflow's ``check`` on the same flow is shown alongside.

Usage (from the project root):
    .venv/bin/python benchmarks/check_time.py [--repeat 10] [--skip-metaflow]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

sys.dont_write_bytecode = True  # keep benchmarks/ free of __pycache__

from _common import (  # noqa: E402  (after dont_write_bytecode)
    STEPWELL,
    RunResult,
    Tool,
    median,
    metaflow_tool,
    prepare_bytecode,
    render_flow,
    run_command,
    scratch_dir,
    stepwell_tool,
    verdict,
)

TARGET_S = 0.300
FLOW = "chain20"


def time_check(tools: Sequence[Tool], repeat: int) -> dict[str, list[RunResult]]:
    """``repeat`` runs of ``flow.py check`` per tool, interleaved; a tool stops at a failure."""
    results: dict[str, list[RunResult]] = {tool.name: [] for tool in tools}
    with scratch_dir("stepwell-bench-flows-") as flow_dir:
        paths = {tool.name: render_flow(FLOW, tool, flow_dir) for tool in tools}
        for _ in range(repeat):
            for tool in tools:
                runs = results[tool.name]
                if runs and not runs[-1].ok:
                    continue
                runs.append(run_command(tool, paths[tool.name], ["check"]))
    return results


def report(results: dict[str, list[RunResult]]) -> None:
    medians: dict[str, float | None] = {}
    for name, runs in results.items():
        failed = next((r for r in runs if not r.ok), None)
        if failed:
            medians[name] = None
            tail = "\n    ".join(failed.log_tail.strip().splitlines()[-10:])
            print(f"{name}: `{FLOW}.py check` FAILED (exit {failed.returncode}):\n    {tail}")
            continue
        medians[name] = median([r.seconds for r in runs])
        reps = ", ".join(f"{r.seconds * 1000:.0f}" for r in runs)
        print(f"{name}: `{FLOW}.py check` median {medians[name] * 1000:.0f} ms  [{reps}]")
    sw = medians.get(STEPWELL)
    print(f"target: stepwell < {TARGET_S * 1000:.0f} ms: {verdict(sw, TARGET_S)}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--skip-metaflow", action="store_true")
    args = parser.parse_args(argv)
    tools = [stepwell_tool()] + ([] if args.skip_metaflow else [metaflow_tool()])
    prepare_bytecode(tools)
    report(time_check(tools, args.repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
