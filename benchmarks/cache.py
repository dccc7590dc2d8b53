"""@cache: what a task reused from the cache costs, against not having the step at all.

Two shapes, stepwell only (Metaflow has no cross-run cache):

- ``chain``: ``start -> s1 -> ... -> sK -> end``, every ``s`` step ``@cache``'d;
- ``foreach``: ``start -> work (foreach of N, @cache) -> gather (@cache) -> end``.

Each flow runs once to fill the cache (not timed), then ``--repeat`` times with
every @cache task reused (timed, whole process). The baseline is the flow with
those steps removed (``start -> end``, the same start and end). The cost of a
reused task is ``(median cached run - median baseline) / tasks reused``; the
target is at most 5 ms. The first (filling) run is reported for scale.

    .venv/bin/python benchmarks/cache.py [--repeat 5] [--chain 50] [--width 1000]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from _common import (
    RESULTS_DIR,
    median,
    prepare_bytecode,
    run_env,
    scratch_dir,
    stepwell_tool,
    time_process,
    verdict,
    write_json,
)

TARGET_MS = 5.0

HEAD = """from stepwell import FlowSpec, cache, step


class {name}(FlowSpec):
    @step
    def start(self):
        self.v = 0
        self.items = list(range({width}))
        self.next(self.{first}{split})
"""
CHAIN_STEP = """
    @cache
    @step
    def s{i}(self):
        self.v = self.v + 1
        self.next(self.{after})
"""
FOREACH_STEPS = """
    @cache
    @step
    def work(self):
        self.v = self.input * 2
        self.next(self.gather)

    @cache
    @step
    def gather(self, inputs):
        self.v = sum(i.v for i in inputs)
        self.next(self.end)
"""
TAIL = """
    @step
    def end(self):
        pass


if __name__ == "__main__":
    {name}()
"""


def chain_flow(steps: int, width: int) -> str:
    body = "".join(
        CHAIN_STEP.format(i=i, after=f"s{i + 1}" if i < steps else "end")
        for i in range(1, steps + 1)
    )
    head = HEAD.format(name="CacheChainFlow", width=width, first="s1", split="")
    return head + body + TAIL.format(name="CacheChainFlow")


def foreach_flow(width: int) -> str:
    head = HEAD.format(
        name="CacheForeachFlow", width=width, first="work", split=', foreach="items"'
    )
    return head + FOREACH_STEPS + TAIL.format(name="CacheForeachFlow")


def baseline_flow(width: int) -> str:
    head = HEAD.format(name="CacheBaseFlow", width=width, first="end", split="")
    return head + TAIL.format(name="CacheBaseFlow")


def _time(flow: Path, scratch: Path, repeat: int, *args: str) -> list[float]:
    argv = [sys.executable, str(flow), "run", "--quiet", *args]
    times = []
    for _ in range(repeat):
        result = time_process(argv, cwd=scratch, env=run_env(scratch))
        if not result.ok:
            raise RuntimeError(f"{flow.name} failed:\n{result.log_tail}")
        times.append(result.seconds)
    return times


def measure(source: str, baseline: str, reused: int, repeat: int, *args: str) -> dict:
    with scratch_dir() as scratch:
        flow, base = scratch / "flow.py", scratch / "base.py"
        flow.write_text(source)
        base.write_text(baseline)
        (first,) = _time(flow, scratch, 1, *args)  # fills the cache
        cached = _time(flow, scratch, repeat, *args)
        plain = _time(base, scratch, repeat, *args)
    cost_ms = 1000 * (median(cached) - median(plain)) / reused  # type: ignore[operator]
    return {
        "tasks_reused": reused,
        "first_run_s": first,
        "cached_run_s": median(cached),
        "baseline_s": median(plain),
        "ms_per_reused_task": cost_ms,
        "verdict": verdict(cost_ms, TARGET_MS),
        "cached_runs": cached,
        "baseline_runs": plain,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--chain", type=int, default=50, help="@cache steps in the chain")
    parser.add_argument("--width", type=int, default=1000, help="branches of the foreach")
    args = parser.parse_args(argv)
    prepare_bytecode([stepwell_tool()])
    splits = ("--max-num-splits", str(max(args.width, 1)))
    results = {
        "chain": measure(
            chain_flow(args.chain, 1), baseline_flow(1), args.chain, args.repeat
        ),
        "foreach": measure(
            foreach_flow(args.width), baseline_flow(args.width), args.width + 1, args.repeat,
            *splits,
        ),
    }  # fmt: skip
    for name, r in results.items():
        print(
            f"{name:8s} {r['tasks_reused']:5d} reused tasks: first run {r['first_run_s']:.3f} s, "
            f"cached run {r['cached_run_s']:.3f} s, without the steps {r['baseline_s']:.3f} s "
            f"-> {r['ms_per_reused_task']:.2f} ms per reused task "
            f"(target <= {TARGET_MS:g} ms: {r['verdict']})"
        )
    write_json(RESULTS_DIR / "cache.json", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
