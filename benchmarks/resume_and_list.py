"""Resume of a 20-step chain failed at its last step, and listing 100 tasks with their status.

For each tool, in one scratch store: run the flow once (not timed), then time
the operation in a fresh process. Targets: resume at most 1/5 of Metaflow's
time; listing is reported (no target).

    .venv/bin/python benchmarks/resume_and_list.py [--repeat 3] [--skip-metaflow]
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
    verdict,
    write_json,
)

LIST_CODE = (
    "from {pkg} import Flow, namespace\n"
    "namespace(None)\n"
    "run = Flow('Foreach1000Flow').latest_run\n"
    "statuses = [t.successful for t in run['work']]\n"
    "assert len(statuses) == 100 and all(statuses), len(statuses)\n"
)


def _run(tool: Tool, flow: Path, scratch: Path, *args: str, env: dict[str, str] | None = None):
    argv = [str(tool.python), str(flow), *tool.global_args, *args]
    return time_process(argv, cwd=scratch, env={**run_env(scratch), **(env or {})})


def time_resume(tool: Tool) -> float | None:
    with scratch_dir() as scratch:
        flow = render_flow("chain20_fail", tool, scratch)
        first = _run(tool, flow, scratch, "run", env={"FAIL_LAST": "1"})
        if first.ok:
            raise RuntimeError(f"{tool.name}: the failing run succeeded")
        resumed = _run(tool, flow, scratch, "resume")
        if not resumed.ok:
            print(f"{tool.name} resume FAILED:\n{resumed.log_tail}", file=sys.stderr)
            return None
        return resumed.seconds


def time_listing(tool: Tool) -> float | None:
    with scratch_dir() as scratch:
        flow = render_flow("foreach1000", tool, scratch)
        extra = ["--max-num-splits", "1000"]
        first = _run(tool, flow, scratch, "run", "--n", "100", *extra)
        if not first.ok:
            print(f"{tool.name} foreach FAILED:\n{first.log_tail}", file=sys.stderr)
            return None
        code = LIST_CODE.format(pkg=tool.name)
        listed = time_process([str(tool.python), "-c", code], cwd=scratch, env=run_env(scratch))
        if not listed.ok:
            print(f"{tool.name} listing FAILED:\n{listed.log_tail}", file=sys.stderr)
            return None
        return listed.seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-metaflow", action="store_true")
    args = parser.parse_args(argv)
    tools = [stepwell_tool()] + ([] if args.skip_metaflow else [metaflow_tool()])
    prepare_bytecode(tools)
    results: dict[str, dict[str, float | None]] = {}
    for name, measure in (("resume_chain20", time_resume), ("list_100_tasks", time_listing)):
        for tool in tools:
            times = [measure(tool) for _ in range(args.repeat)]
            ok = [t for t in times if t is not None]
            results.setdefault(name, {})[tool.name] = median(ok) if ok else None
            print(f"{name:16s} {tool.name:9s} median {results[name][tool.name]} s  {times}")
    resume = results["resume_chain20"]
    ratio = None
    if resume.get("stepwell") and resume.get("metaflow"):
        ratio = resume["stepwell"] / resume["metaflow"]  # type: ignore[operator]
    print(f"resume ratio stepwell/metaflow: {ratio} (target <= 1/5: {verdict(ratio, 0.2)})")
    write_json(RESULTS_DIR / "resume_and_list.json", {"results": results, "resume_ratio": ratio})
    return 0


if __name__ == "__main__":
    sys.exit(main())
