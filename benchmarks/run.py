"""Run the flow benchmarks for stepwell and, side by side, Metaflow.

Usage (from the project root):
    .venv/bin/python benchmarks/run.py                  # all, 3 repetitions
    .venv/bin/python benchmarks/run.py --only chain20 --repeat 5
    .venv/bin/python benchmarks/run.py --skip-metaflow
    .venv/bin/python benchmarks/run.py --only foreach100k --big

Prints a table of medians and ratios (stepwell / Metaflow) against the targets,
and writes benchmarks/results/latest.json and latest.md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.dont_write_bytecode = True  # keep benchmarks/ free of __pycache__

from _common import (  # noqa: E402  (after dont_write_bytecode)
    METAFLOW,
    RESULTS_DIR,
    STEPWELL,
    RunResult,
    Tool,
    machine_info,
    median,
    metaflow_tool,
    prepare_bytecode,
    render_flow,
    run_command,
    scratch_dir,
    stepwell_tool,
    tool_version,
    verdict,
    write_atomic,
    write_json,
)


@dataclass(frozen=True)
class Benchmark:
    """A flow to time; with a baseline, the figure is flow time minus baseline time."""

    name: str
    flow: str
    target: float | None  # largest acceptable stepwell / Metaflow ratio
    run_args: tuple[str, ...] = ()
    baseline: str | None = None
    stepwell_only: bool = False
    big: bool = False  # run only with --big
    sample_rss: bool = False
    prime: bool = False  # run each flow once, untimed, in the same store before timing it
    target_s: float | None = None  # largest acceptable stepwell figure, in seconds

    def flows(self) -> list[str]:
        return [self.flow] if self.baseline is None else [self.flow, self.baseline]


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("start_end", "start_end", target=1 / 4),
    Benchmark("chain20", "chain20", target=1 / 10),
    Benchmark("foreach1000", "foreach1000", target=1 / 20, run_args=("--max-num-splits", "1000")),
    Benchmark("bigdata", "bigdata", target=1 / 10, baseline="bigdata_baseline"),
    Benchmark(
        "bigdata_compressible",
        "bigdata_compressible",
        target=1 / 10,
        baseline="bigdata_baseline",
    ),
    Benchmark(  # the same 200 MiB again: the store already holds every blob
        "bigdata_again",
        "bigdata",
        target=None,
        baseline="bigdata_baseline",
        prime=True,
        target_s=0.4,
    ),
    # The same three, against baselines that make and sum the same data without keeping
    # it: the time spent persisting and reloading alone (data generation excluded).
    Benchmark("bigdata_storage", "bigdata", target=1 / 10, baseline="bigdata_generate"),
    Benchmark(
        "bigdata_compressible_storage",
        "bigdata_compressible",
        target=1 / 10,
        baseline="bigdata_compressible_generate",
    ),
    Benchmark(
        "bigdata_again_storage",
        "bigdata",
        target=None,
        baseline="bigdata_generate",
        prime=True,
        target_s=0.4,
    ),
    # A 200 MiB dataset read and passed on by three steps, minus the same steps not reading
    # it: each read step loads both values and, as it may have changed them, stores them.
    Benchmark("pass_on", "passon", target=None, baseline="passon_baseline"),
    Benchmark(
        "foreach100k",
        "foreach100k",
        target=None,
        run_args=("--max-num-splits", "100000"),
        stepwell_only=True,
        big=True,
        sample_rss=True,
    ),
)


@dataclass
class Series:
    """All repetitions of one flow under one tool."""

    runs: list[RunResult] = field(default_factory=list)

    @property
    def failed(self) -> RunResult | None:
        return next((r for r in self.runs if not r.ok), None)

    @property
    def seconds(self) -> list[float]:
        return [r.seconds for r in self.runs if r.ok]

    def median(self) -> float | None:
        return None if self.failed else median(self.seconds)


# results[benchmark][tool][flow]
Results = dict[str, dict[str, dict[str, Series]]]


def run_benchmarks(
    benchmarks: Sequence[Benchmark], tools: Sequence[Tool], repeat: int, timeout: float
) -> Results:
    """Run every (benchmark, tool, flow) ``repeat`` times, interleaved to spread the noise."""
    jobs = [
        (bench, tool, flow)
        for bench in benchmarks
        for tool in tools
        if tool.name == STEPWELL or not bench.stepwell_only
        for flow in bench.flows()
    ]
    results: Results = {b.name: {} for b in benchmarks}
    for bench, tool, flow in jobs:
        results[bench.name].setdefault(tool.name, {})[flow] = Series()
    with scratch_dir("stepwell-bench-flows-") as flow_dir:
        for rep in range(1, repeat + 1):
            for bench, tool, flow in jobs:
                series = results[bench.name][tool.name][flow]
                if series.failed:  # a broken flow is not retried
                    continue
                path = render_flow(flow, tool, flow_dir)
                command = ["run", *bench.run_args]
                result = run_command(
                    tool,
                    path,
                    command,
                    sample_rss=bench.sample_rss,
                    timeout=timeout,
                    prime=bench.prime,
                )
                series.runs.append(result)
                _print_progress(rep, bench, tool, flow, result)
    return results


def _print_progress(rep: int, bench: Benchmark, tool: Tool, flow: str, r: RunResult) -> None:
    label = f"[{rep}] {bench.name:<12} {tool.name:<9} {flow:<17}"
    if r.ok:
        rss = f"  max RSS {r.max_rss_mib:.0f} MiB" if bench.sample_rss else ""
        print(f"{label} {r.seconds:8.3f} s{rss}", flush=True)
    else:
        why = ", killed at --timeout" if r.timed_out else ""
        print(f"{label} FAILED (exit {r.returncode}{why})", flush=True)


@dataclass
class FlowStats:
    """Absolute figures of one flow under one tool."""

    seconds: list[float]
    median_s: float | None
    failed: dict[str, object] | None  # returncode and log tail of the first failed run
    max_rss_mib: float | None = None  # wait4 ru_maxrss: max(scheduler, waited descendants)
    scheduler_vmhwm_mib: float | None = None  # VmHWM of the scheduler process alone, sampled


@dataclass
class Row:
    """One benchmark's outcome: each tool's figure, the ratio, the target and the verdict."""

    benchmark: str
    stepwell_s: float | None
    metaflow_s: float | None
    ratio: float | None
    target_ratio: float | None
    verdict: str
    flows: dict[str, FlowStats]  # by "tool/flow"
    note: str = ""  # what the figure is, when not the plain wall time

    def failed(self, tool: str) -> bool:
        return any(s.failed for k, s in self.flows.items() if k.startswith(tool + "/"))


def summarise(benchmarks: Sequence[Benchmark], results: Results) -> list[Row]:
    rows = []
    for bench in benchmarks:
        figures = {tool: _figure(bench, per_flow) for tool, per_flow in results[bench.name].items()}
        sw, mf = figures.get(STEPWELL), figures.get(METAFLOW)
        ratio = sw / mf if sw is not None and mf is not None and mf > 0 else None
        flows = {
            f"{tool}/{flow}": _flow_stats(series)
            for tool, per_flow in results[bench.name].items()
            for flow, series in per_flow.items()
            if series.runs
        }
        failed = any(stats.failed for stats in flows.values())
        if failed:
            outcome = "n/a (a run failed)"
        elif bench.target_s is not None:
            outcome = verdict(sw, bench.target_s) + f" (stepwell ≤ {bench.target_s} s)"
        else:
            outcome = verdict(ratio, bench.target)
        note = (
            f"added time = median of ({bench.flow} minus {bench.baseline}), paired by repetition"
            if bench.baseline
            else ""
        )
        if bench.prime:
            note += "; each timed run follows an untimed run of the same flow in the same store"
        rows.append(Row(bench.name, sw, mf, ratio, bench.target, outcome, flows, note))
    return rows


def _figure(bench: Benchmark, per_flow: dict[str, Series]) -> float | None:
    """Median time of the flow; with a baseline, the median of the paired differences.

    The flow and its baseline run back to back in each repetition, so pairing
    them cancels most of the machine's slow swings in load.
    """
    main = per_flow[bench.flow]
    if bench.baseline is None:
        return main.median()
    base = per_flow[bench.baseline]
    if main.failed or base.failed:
        return None
    return median([m - b for m, b in zip(main.seconds, base.seconds, strict=True)])


def _flow_stats(series: Series) -> FlowStats:
    failed = series.failed
    hwm = [r.own_hwm_mib for r in series.runs if r.own_hwm_mib is not None]
    return FlowStats(
        seconds=series.seconds,
        median_s=series.median(),
        failed=None
        if failed is None
        else {
            "returncode": failed.returncode,
            "timed_out": failed.timed_out,
            "log": failed.log_tail,
        },
        max_rss_mib=max(r.max_rss_mib for r in series.runs) if hwm else None,
        scheduler_vmhwm_mib=max(hwm) if hwm else None,
    )


def _fmt(value: float | None, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def markdown_table(rows: Sequence[Row]) -> str:
    lines = [
        "| benchmark | stepwell (s) | Metaflow (s) | ratio | target ratio | verdict |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        sw = "FAILED" if row.failed(STEPWELL) else _fmt(row.stepwell_s)
        mf = "FAILED" if row.failed(METAFLOW) else _fmt(row.metaflow_s)
        target = "-" if row.target_ratio is None else f"≤ 1/{round(1 / row.target_ratio)}"
        cells = [row.benchmark, sw, mf, _fmt(row.ratio), target, row.verdict]
        lines.append("| " + " | ".join(cells) + " |")
    notes = [f"- {row.benchmark}: {row.note}" for row in rows if row.note]
    return "\n".join(lines + ([""] if notes else []) + notes) + "\n"


def detail_lines(rows: Sequence[Row]) -> list[str]:
    """Absolute figures of every flow: median and repetitions, failures with their log tail."""
    lines = []
    for row in rows:
        for key, stats in row.flows.items():
            reps = ", ".join(f"{s:.3f}" for s in stats.seconds)
            line = f"- {row.benchmark} {key}: median {_fmt(stats.median_s)} s [{reps}]"
            if stats.scheduler_vmhwm_mib is not None:
                line += (
                    f"; max RSS (wait4) {_fmt(stats.max_rss_mib, '.0f')} MiB,"
                    f" scheduler VmHWM {_fmt(stats.scheduler_vmhwm_mib, '.0f')} MiB"
                )
            if stats.failed:
                tail = str(stats.failed["log"]).strip().splitlines()[-15:]
                why = "killed at --timeout" if stats.failed["timed_out"] else "exit"
                line += f"\n  FAILED ({why}, exit {stats.failed['returncode']}); output ends:"
                line += "".join(f"\n      {t}" for t in tail)
            lines.append(line)
    return lines


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    names = [b.name for b in BENCHMARKS]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=names, action="append", help="run only this (repeatable)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (median taken)")
    parser.add_argument("--big", action="store_true", help="also run foreach100k (stepwell only)")
    parser.add_argument("--skip-metaflow", action="store_true", help="time stepwell alone")
    parser.add_argument(
        "--timeout", type=float, default=3600, help="seconds before a run is killed (FAILED)"
    )
    parser.add_argument(
        "--output", type=Path, default=RESULTS_DIR / "latest", help="results path, no suffix"
    )
    return parser.parse_args(argv)


def select(args: argparse.Namespace) -> list[Benchmark]:
    """The benchmarks asked for; the big ones only with --big."""
    return [
        b for b in BENCHMARKS if (not args.only or b.name in args.only) and (args.big or not b.big)
    ]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    benchmarks = select(args)
    if not benchmarks:
        print("Nothing to run (foreach100k needs --big).", file=sys.stderr)
        return 2
    tools = [stepwell_tool()] + ([] if args.skip_metaflow else [metaflow_tool()])
    prepare_bytecode(tools)
    versions = {t.name: tool_version(t) for t in tools}
    info = machine_info()
    print(f"{info} versions={versions} repeat={args.repeat}", flush=True)

    rows = summarise(benchmarks, run_benchmarks(benchmarks, tools, args.repeat, args.timeout))
    table = markdown_table(rows)
    details = detail_lines(rows)
    print("\n" + table + "\n" + "\n".join(details))

    header = f"# Benchmark results\n\n{info['date']}, {info['nproc']} CPUs, Python {info['python']}"
    header += f", versions {versions}, median of {args.repeat}.\n\n"
    write_atomic(args.output.with_suffix(".md"), header + table + "\n" + "\n".join(details) + "\n")
    write_json(
        args.output.with_suffix(".json"),
        {
            "machine": info,
            "versions": versions,
            "repeat": args.repeat,
            "results": [asdict(row) for row in rows],
        },
    )
    print(f"\nWrote {args.output.with_suffix('.json')} and {args.output.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
