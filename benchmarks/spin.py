"""spin: run the failed last step of a 20-step chain again with its inputs, in a fresh process.

The developer's loop ``spin`` exists for: a run failed at its last step
(``FAIL_LAST=1``), the step is fixed, and ``python flow.py spin end`` runs it
again with the inputs of that run. For each tool, in one scratch store: the
failing run (not timed), then ``spin end`` timed (median of --repeat). Both
record nothing (Metaflow's default, and stepwell's). Reported as a ratio; no
target in the issue.

    .venv/bin/python benchmarks/spin.py [--repeat 5] [--skip-metaflow]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from _common import (
    RESULTS_DIR,
    Tool,
    median,
    metaflow_tool,
    prepare_bytecode,
    render_flow,
    run_env,
    scratch_dir,
    stepwell_tool,
    time_process,
    write_json,
)


def _run(tool: Tool, flow: Path, scratch: Path, *args: str, env: dict[str, str] | None = None):
    argv = [str(tool.python), str(flow), *tool.global_args, *args]
    return time_process(argv, cwd=scratch, env={**run_env(scratch), **(env or {})})


def time_spins(tool: Tool, repeat: int) -> list[float | None]:
    with scratch_dir() as scratch:
        flow = render_flow("chain20_fail", tool, scratch)
        first = _run(tool, flow, scratch, "run", env={"FAIL_LAST": "1"})
        if first.ok:
            raise RuntimeError(f"{tool.name}: the failing run succeeded")
        times: list[float | None] = []
        for _ in range(repeat):
            spun = _run(tool, flow, scratch, "spin", "end")
            if not spun.ok:
                print(f"{tool.name} spin FAILED:\n{spun.log_tail}", file=sys.stderr)
                times.append(None)
                continue
            times.append(spun.seconds)
        return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-metaflow", action="store_true")
    args = parser.parse_args(argv)
    tools = [stepwell_tool()] + ([] if args.skip_metaflow else [metaflow_tool()])
    prepare_bytecode(tools)
    results: dict[str, float | None] = {}
    for tool in tools:
        times = time_spins(tool, args.repeat)
        ok = [t for t in times if t is not None]
        results[tool.name] = median(ok) if ok else None
        print(f"spin_end  {tool.name:9s} median {results[tool.name]} s  {times}")
    ratio = None
    if results.get("stepwell") and results.get("metaflow"):
        ratio = results["stepwell"] / results["metaflow"]  # type: ignore[operator]
    print(f"spin ratio stepwell/metaflow: {ratio}")
    write_json(RESULTS_DIR / "spin.json", {"results": results, "ratio": ratio})
    return 0


if __name__ == "__main__":
    sys.exit(main())
