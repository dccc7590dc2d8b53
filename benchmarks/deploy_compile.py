"""Compile a 50-step flow to Argo Workflows and to Airflow: stepwell against Metaflow 2.19.

Targets (issue #12): ``argo-workflows create --only-json`` and ``airflow create``
take at most 1/5 of Metaflow's time for the same commands, side by side, with
an S3 datastore configured for both (a moto server on 127.0.0.1; both store
the flow's code package there while compiling). Each command is a fresh
process, timed from start to exit; the median of ``--repeat`` interleaved
runs is reported. Also: a foreach of 10,000 compiles to a manifest of the same
size as a foreach of 3 (the width is known only when the run fans out).

Usage (from the project root):
    .venv/bin/python benchmarks/deploy_compile.py [--repeat 5] [--skip-metaflow]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

sys.dont_write_bytecode = True  # keep benchmarks/ free of __pycache__

from _common import (  # noqa: E402  (after dont_write_bytecode)
    METAFLOW,
    METAFLOW_VENV,
    RESULTS_DIR,
    RunResult,
    Tool,
    machine_info,
    median,
    metaflow_tool,
    prepare_bytecode,
    run_env,
    scratch_dir,
    stepwell_tool,
    time_process,
    tool_version,
    verdict,
    write_json,
)

STEPS = 50
TARGET = 0.2  # stepwell's time / Metaflow's
#: Metaflow's compilers import these (argo: kubernetes; the S3 datastore: boto3).
METAFLOW_EXTRAS = ("kubernetes", "boto3")
#: kubernetes 37 wants python-dateutil>=3, which botocore refuses (pip backtracks for minutes).
METAFLOW_PINS = ("kubernetes<37", "boto3")


def flow_source(items: str = "list(range(3))", import_from: str = "stepwell") -> str:
    """A 50-step flow: start fans out to one step, a join, then 46 @retry steps and end.

    (Metaflow's Airflow compiler needs a foreach's join right after its one body step.)
    """
    chain = [f"s{i:02d}" for i in range(1, STEPS - 3)]
    out = [
        f"from {import_from} import FlowSpec, retry, step",
        "",
        "class Compile50Flow(FlowSpec):",
        "    @step",
        "    def start(self):",
        f"        self.items = {items}",
        "        self.next(self.body, foreach='items')",
        "",
        "    @step",
        "    def body(self):",
        "        self.value = self.input",
        "        self.next(self.join)",
        "",
        "    @step",
        "    def join(self, inputs):",
        "        self.total = sum(i.value for i in inputs)",
        f"        self.next(self.{chain[0]})",
    ]
    for here, after in zip(chain, [*chain[1:], "end"], strict=True):
        out += ["", "    @retry(times=2)", "    @step", f"    def {here}(self):"]
        out += [f"        self.next(self.{after})"]
    out += ["", "    @step", "    def end(self):", "        pass", ""]
    out += ["if __name__ == '__main__':", "    Compile50Flow()", ""]
    return "\n".join(out)


def commands(dag_file: Path) -> dict[str, list[str]]:
    return {
        "argo-workflows create --only-json": ["argo-workflows", "create", "--only-json"],
        "airflow create": ["airflow", "create", str(dag_file)],
    }


def s3_env(server: object, bucket: str) -> dict[str, str]:
    endpoint = server.endpoint_url  # type: ignore[attr-defined]
    return {
        **server.credentials,  # type: ignore[attr-defined]
        "STEPWELL_DATASTORE": "s3",
        "STEPWELL_DATASTORE_ROOT": f"s3://{bucket}/stepwell",
        "STEPWELL_S3_ENDPOINT_URL": endpoint,
        "METAFLOW_DEFAULT_DATASTORE": "s3",
        "METAFLOW_DATASTORE_SYSROOT_S3": f"s3://{bucket}/metaflow",
        "METAFLOW_S3_ENDPOINT_URL": endpoint,
    }


def time_compiles(tools: Sequence[Tool], repeat: int, extra_env: dict[str, str]) -> dict:
    """``repeat`` interleaved runs of each command per tool; a failed command stops repeating."""
    results: dict[str, dict[str, list[RunResult]]] = {}
    with scratch_dir("stepwell-bench-compile-") as scratch:
        env = {**run_env(scratch), **extra_env}
        flows = {}
        for tool in tools:
            folder = scratch / tool.name
            folder.mkdir()
            source = flow_source(import_from="metaflow" if tool.name == METAFLOW else "stepwell")
            flows[tool.name] = folder / "compile50_flow.py"
            flows[tool.name].write_text(source)
        for _ in range(repeat):
            for tool in tools:
                for label, command in commands(scratch / tool.name / "dag.py").items():
                    runs = results.setdefault(label, {}).setdefault(tool.name, [])
                    if runs and not runs[-1].ok:
                        continue
                    argv = [str(tool.python), str(flows[tool.name]), *tool.global_args, *command]
                    runs.append(time_process(argv, cwd=scratch / tool.name, env=env, timeout=600))
    return results


def manifest_sizes(extra_env: dict[str, str]) -> dict[str, int]:
    """Bytes of stepwell's Argo manifest for a foreach of 3 and of 10,000 items."""
    sizes = {}
    with scratch_dir("stepwell-bench-width-") as scratch:
        env = {**run_env(scratch), **extra_env}
        for label, items in (("3", "list(range(3))"), ("10000", "list(range(10_000))")):
            flow = scratch / f"w{label}" / "compile50_flow.py"
            flow.parent.mkdir()
            flow.write_text(flow_source(items))
            out = subprocess.run(
                [sys.executable, str(flow), "argo-workflows", "create", "--only-json"],
                cwd=flow.parent, env=env, capture_output=True, text=True, check=True,
            )  # fmt: skip
            sizes[label] = len(out.stdout.replace(flow.parent.name, ""))
    return sizes


def ensure_metaflow_extras() -> Tool:
    tool = metaflow_tool()
    probe = [str(tool.python), "-c", "import " + ", ".join(METAFLOW_EXTRAS)]
    if subprocess.run(probe, capture_output=True).returncode:
        print(f"Installing {', '.join(METAFLOW_PINS)} into {METAFLOW_VENV} ...", flush=True)
        pip = [str(METAFLOW_VENV / "bin" / "pip"), "install", "--quiet", *METAFLOW_PINS]
        subprocess.run(pip, check=True)
    return tool


def _cell(seconds: float | None) -> str:
    return "failed" if seconds is None else f"{seconds:.3f} s"


def report(results: dict, sizes: dict[str, int]) -> tuple[list[str], dict]:
    lines = [
        f"Compile a {STEPS}-step flow (a foreach, its join, 46 @retry steps), S3 datastore "
        "on a local moto server; median of fresh processes:",
        "",
        "| command | stepwell | Metaflow | ratio | target <= 0.2 |",
        "| --- | --- | --- | --- | --- |",
    ]
    summary: dict = {}
    for label, by_tool in results.items():
        times = {}
        for name, runs in by_tool.items():
            times[name] = median([r.seconds for r in runs]) if all(r.ok for r in runs) else None
            if runs and not runs[-1].ok:
                print(f"{name} `{label}` failed:\n{runs[-1].log_tail}", file=sys.stderr)
        sw, mf = times.get("stepwell"), times.get(METAFLOW)
        ratio = sw / mf if sw and mf else None
        shown_mf = _cell(mf) if METAFLOW in by_tool else "-"
        shown_ratio = "-" if ratio is None else f"{ratio:.2f}"
        lines.append(
            f"| `{label}` | {_cell(sw)} | {shown_mf} | {shown_ratio} | {verdict(ratio, TARGET)} |"
        )
        summary[label] = {"stepwell_s": sw, "metaflow_s": mf, "ratio": ratio}
    same = "the same size" if sizes["3"] == sizes["10000"] else "NOT the same size"
    lines += ["", f"Argo manifests of a foreach of 3 and of 10,000 items: {sizes['3']} and "
              f"{sizes['10000']} bytes ({same})."]  # fmt: skip
    return lines, summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-metaflow", action="store_true")
    args = parser.parse_args(argv)
    from stepwell.testing.s3server import S3Server

    tools = [stepwell_tool()] + ([] if args.skip_metaflow else [ensure_metaflow_extras()])
    prepare_bytecode(tools)
    with S3Server.start() as server:
        env = s3_env(server, server.new_bucket("compile"))
        results = time_compiles(tools, args.repeat, env)
        sizes = manifest_sizes(env)
    lines, summary = report(results, sizes)
    print("\n".join(lines))
    write_json(RESULTS_DIR / "deploy_compile.json", {
        "machine": machine_info(), "versions": {t.name: tool_version(t) for t in tools},
        "repeat": args.repeat, "results": summary, "manifest_bytes": sizes,
    })  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
