"""Measure the cost of importing stepwell (and, for comparison, Metaflow).

Each snippet runs as ``python -c SNIPPET`` in a fresh process, ``--repeat``
times, interleaved with ``python -c pass``; the import cost is the median of
the snippet minus the median of ``pass`` (interpreter start-up and site).
Target: under 150 ms for ``import stepwell`` and for
``from stepwell import FlowSpec, step``.

Usage (from the project root):
    .venv/bin/python benchmarks/import_time.py [--repeat 20] [--skip-metaflow] [--detail]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence

sys.dont_write_bytecode = True  # keep benchmarks/ free of __pycache__

from _common import (  # noqa: E402  (after dont_write_bytecode)
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

TARGET_MS = 150.0
BASELINE = "pass"


def snippets(tool: Tool) -> list[str]:
    return [f"import {tool.name}", f"from {tool.name} import FlowSpec, step"]


def time_snippets(tool: Tool, codes: Sequence[str], repeat: int) -> dict[str, list[float]]:
    """Seconds of ``python -c CODE`` for the baseline and each code, ``repeat`` times each."""
    times: dict[str, list[float]] = {code: [] for code in [BASELINE, *codes]}
    with scratch_dir() as scratch:
        env = run_env(scratch)
        for _ in range(repeat):
            for code in times:
                result = time_process([str(tool.python), "-c", code], cwd=scratch, env=env)
                if not result.ok:
                    raise SystemExit(f"`python -c {code!r}` failed:\n{result.log_tail}")
                times[code].append(result.seconds)
    return times


def report(tool: Tool, times: dict[str, list[float]]) -> None:
    base = median(times[BASELINE]) or 0.0
    print(f"{tool.name} ({tool.python}): `python -c pass` median {base * 1000:.1f} ms")
    for code, seconds in times.items():
        if code == BASELINE:
            continue
        cost_ms = ((median(seconds) or 0.0) - base) * 1000
        best_ms = (min(seconds) - base) * 1000
        line = f"  {code:<40} {cost_ms:7.1f} ms  (best {best_ms:.1f} ms)"
        if tool.name == STEPWELL:
            line += f"  target < {TARGET_MS:.0f} ms: {verdict(cost_ms, TARGET_MS)}"
        print(line)


def print_import_detail(tool: Tool, code: str, top: int = 15) -> None:
    """The modules with the largest cumulative import time, from ``-X importtime``."""
    with scratch_dir() as scratch:
        done = subprocess.run(
            [str(tool.python), "-X", "importtime", "-c", code],
            cwd=scratch,
            env=run_env(scratch),
            capture_output=True,
            text=True,
        )
    rows = []
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].rstrip()))
    print(f"  slowest imports of `{code}` (cumulative, -X importtime):")
    for cumulative_us, name in sorted(rows, reverse=True)[:top]:
        print(f"    {cumulative_us / 1000:7.1f} ms {name}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--skip-metaflow", action="store_true")
    parser.add_argument("--detail", action="store_true", help="print the slowest modules")
    args = parser.parse_args(argv)

    tools = [stepwell_tool()] + ([] if args.skip_metaflow else [metaflow_tool()])
    prepare_bytecode(tools)
    print(f"median of {args.repeat} runs each, minus the median of `python -c pass`")
    for tool in tools:
        codes = snippets(tool)
        report(tool, time_snippets(tool, codes, args.repeat))
        if args.detail:
            print_import_detail(tool, codes[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
