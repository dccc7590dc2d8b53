"""S3 benchmarks: client libraries, the S3 client API, the S3 datastore, a foreach on S3.

Every section runs against ONE moto server (``stepwell.testing.s3server``) on
127.0.0.1, started here and stopped at the end, side by side in the same run.
moto (a single Python process keeping every object in RAM) is the bottleneck,
so absolute MB/s say little; the figures that count are ratios of medians.

Usage (from the project root):
    .venv/bin/python benchmarks/s3.py                       # every section, 3 repetitions
    .venv/bin/python benchmarks/s3.py --client --api        # sections 1 and 2 only
    .venv/bin/python benchmarks/s3.py --datastore --repeat 5
    .venv/bin/python benchmarks/s3.py --foreach --skip-metaflow

Sections (none named: all):
  --client     raw obstore vs raw boto3, put/get of 1,000 x 64 KiB and 8 x 32 MiB
  --api        stepwell.S3 put_many/get_many vs metaflow.S3, against the raw ceiling
  --datastore  a flow storing/loading a 100 MiB ndarray + 100 MiB DataFrame on S3
  --foreach    foreach of 1,000 trivial tasks, S3 datastore vs local (stepwell only)

Writes benchmarks/results/s3.json and s3.md (``--output`` changes the path).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.dont_write_bytecode = True  # keep benchmarks/ free of __pycache__

from _common import (  # noqa: E402  (after dont_write_bytecode)
    METAFLOW,
    METAFLOW_VENV,
    PYCACHE,
    RESULTS_DIR,
    STEPWELL,
    RunResult,
    Tool,
    machine_info,
    median,
    metaflow_tool,
    prepare_bytecode,
    render_flow,
    run_env,
    scratch_dir,
    stepwell_tool,
    time_process,
    tool_version,
    verdict,
    write_atomic,
    write_json,
)

MIB = 1 << 20
SMALL = ("1000 x 64 KiB", 1000, 64 << 10)
#: 8 x 128 MiB would hold 1 GiB in moto's RAM (several GiB of RSS) and take minutes per
#: repetition; 32 MiB keeps the shape (few objects, each above the 16 MiB multipart threshold).
LARGE_MIB_DEFAULT = 32
#: Requests in flight for the raw clients (threads; boto3 gets as many pooled connections).
RAW_THREADS = 64

RAW_CLIENTS = ("obstore", "boto3")
API_CLIENTS = ("stepwell.S3", "metaflow.S3")

TARGET_API_VS_METAFLOW = 2.0  # stepwell.S3 throughput >= 2x metaflow.S3
TARGET_API_VS_CEILING = 0.8  # stepwell.S3 throughput >= 0.8x the fastest raw client
TARGET_DATASTORE = 1 / 5  # added time, stepwell / Metaflow
TARGET_FOREACH = 2.0  # foreach1000 on S3 / on the local datastore


# ---------------------------------------------------------------------------------------
# The worker: one client, one shape, one repetition, in its own process (and venv)
# ---------------------------------------------------------------------------------------


def worker_main(client: str, count: int, size: int, bucket: str, tmp: str) -> None:
    """Put then get ``count`` random objects of ``size`` bytes; print the two timings as JSON.

    Runs in the project venv (obstore, boto3, stepwell.S3) or Metaflow's (metaflow.S3).
    The objects are deleted afterwards, untimed. Endpoint and credentials come from the
    environment (AWS_*, STEPWELL_S3_ENDPOINT_URL, METAFLOW_S3_ENDPOINT_URL).
    """
    prefix = f"{client}-{os.getpid()}"
    keys = [f"{prefix}/obj-{i:05d}" for i in range(count)]
    bodies = [os.urandom(size) for _ in range(count)]
    endpoint = os.environ["STEPWELL_S3_ENDPOINT_URL"]
    put, get, cleanup = _OPS[client](bucket, endpoint, tmp)
    start = time.perf_counter()
    put(keys, bodies)
    put_s = time.perf_counter() - start
    del bodies
    start = time.perf_counter()
    sizes = get(keys)
    get_s = time.perf_counter() - start
    if sizes != [size] * count:
        raise SystemExit(f"{client}: read back sizes differ from {size}: {sorted(set(sizes))}")
    cleanup(keys)
    print(json.dumps({"put_s": put_s, "get_s": get_s}))


def _pool_map(fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(min(RAW_THREADS, len(items))) as pool:
        return list(pool.map(fn, items))


def _boto3_client(endpoint: str) -> Any:
    import boto3
    import botocore.config

    config = botocore.config.Config(max_pool_connections=RAW_THREADS, retries={"max_attempts": 3})
    return boto3.client("s3", endpoint_url=endpoint, config=config)


def _delete_with_boto3(bucket: str, endpoint: str, keys: Sequence[str]) -> None:
    s3 = _boto3_client(endpoint)
    for start in range(0, len(keys), 1000):
        batch = [{"Key": k} for k in keys[start : start + 1000]]
        s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})


def _ops_obstore(bucket: str, endpoint: str, tmp: str) -> tuple[Callable[..., Any], ...]:
    """Raw obstore: one PUT / one GET per object, objects in parallel from a thread pool."""
    import obstore
    from obstore.store import S3Store

    store = S3Store(
        bucket,
        endpoint=endpoint,
        region=os.environ["AWS_DEFAULT_REGION"],
        virtual_hosted_style_request=False,
        client_options={"allow_http": True},
    )

    def put(keys: list[str], bodies: list[bytes]) -> None:
        _pool_map(lambda i: obstore.put(store, keys[i], bodies[i], use_multipart=False),
                  range(len(keys)))  # fmt: skip

    def get(keys: list[str]) -> list[int]:
        return _pool_map(lambda k: len(obstore.get(store, k).bytes()), keys)

    def cleanup(keys: list[str]) -> None:
        obstore.delete(store, keys)

    return put, get, cleanup


def _ops_boto3(bucket: str, endpoint: str, tmp: str) -> tuple[Callable[..., Any], ...]:
    """Raw boto3: put_object / get_object per object, threads sharing 64 pooled connections."""
    s3 = _boto3_client(endpoint)

    def put(keys: list[str], bodies: list[bytes]) -> None:
        _pool_map(lambda i: s3.put_object(Bucket=bucket, Key=keys[i], Body=bodies[i]),
                  range(len(keys)))  # fmt: skip

    def get(keys: list[str]) -> list[int]:
        return _pool_map(lambda k: len(s3.get_object(Bucket=bucket, Key=k)["Body"].read()), keys)

    return put, get, lambda keys: _delete_with_boto3(bucket, endpoint, keys)


def _ops_api(module: str) -> Callable[[str, str, str], tuple[Callable[..., Any], ...]]:
    """stepwell.S3 or metaflow.S3: put_many of (key, bytes) pairs, get_many to temporary files."""

    def make(bucket: str, endpoint: str, tmp: str) -> tuple[Callable[..., Any], ...]:
        S3 = __import__(module, fromlist=["S3"]).S3
        client = S3(s3root=f"s3://{bucket}", tmproot=tmp)

        def put(keys: list[str], bodies: list[bytes]) -> None:
            client.put_many(list(zip(keys, bodies, strict=True)))

        def get(keys: list[str]) -> list[int]:
            objs = client.get_many(keys)
            return [os.path.getsize(o.path) for o in objs]

        def cleanup(keys: list[str]) -> None:
            client.close()
            _delete_with_boto3(bucket, endpoint, keys)

        return put, get, cleanup

    return make


_OPS: dict[str, Callable[[str, str, str], tuple[Callable[..., Any], ...]]] = {
    "obstore": _ops_obstore,
    "boto3": _ops_boto3,
    "stepwell.S3": _ops_api("stepwell"),
    "metaflow.S3": _ops_api("metaflow"),
}


# ---------------------------------------------------------------------------------------
# The harness
# ---------------------------------------------------------------------------------------


@dataclass
class Context:
    """The server, the interpreters and the scratch directory shared by the sections."""

    server: Any  # stepwell.testing.s3server.S3Server
    stepwell: Tool
    metaflow: Tool | None
    scratch: Path
    repeat: int
    large_mib: int
    log: list[str] = field(default_factory=list)

    def s3_env(self) -> dict[str, str]:
        return {
            **self.server.credentials,
            "STEPWELL_S3_ENDPOINT_URL": self.server.endpoint_url,
            "METAFLOW_S3_ENDPOINT_URL": self.server.endpoint_url,
        }

    def shapes(self) -> list[tuple[str, int, int]]:
        return [SMALL, (f"8 x {self.large_mib} MiB", 8, self.large_mib * MIB)]

    def moto_memory(self) -> dict[str, float]:
        """moto_server's resident memory now and at its peak (MiB)."""
        found: dict[str, float] = {}
        try:
            for line in Path(f"/proc/{self.server.process.pid}/status").read_text().splitlines():
                if line.startswith(("VmRSS:", "VmHWM:")):
                    found[line.split(":")[0]] = int(line.split()[1]) / 1024
        except (OSError, AttributeError):
            pass
        return found


def run_worker(ctx: Context, tool: Tool, client: str, shape: tuple[str, int, int], bucket: str):
    """One worker process; returns {'put_s', 'get_s'} or raises with its output."""
    _, count, size = shape
    with scratch_dir("stepwell-bench-s3-") as tmp:
        env = {**run_env(tmp), **ctx.s3_env()}
        argv = [str(tool.python), str(Path(__file__).resolve()), "--worker", client,
                str(count), str(size), bucket, str(tmp)]  # fmt: skip
        done = subprocess.run(argv, env=env, cwd=tmp, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"{client} {shape[0]} failed:\n{(done.stdout + done.stderr)[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def transfer_sections(ctx: Context, clients: Sequence[str]) -> dict[str, Any]:
    """Every client x shape x repetition, interleaved; medians in MB/s (1 MB = 10^6 bytes)."""
    bucket = ctx.server.new_bucket()
    runs: dict[str, dict[str, list[dict[str, float]]]] = {}
    failures: dict[str, str] = {}
    for rep in range(1, ctx.repeat + 1):
        for shape in ctx.shapes():
            for client in clients:
                tool = ctx.metaflow if client == "metaflow.S3" else ctx.stepwell
                key = f"{client}|{shape[0]}"
                if tool is None or key in failures:
                    continue
                try:
                    got = run_worker(ctx, tool, client, shape, bucket)
                except Exception as err:  # reported, not timed, not retried
                    failures[key] = str(err)
                    print(f"[{rep}] {client:<12} {shape[0]:<15} FAILED\n{err}", flush=True)
                    continue
                runs.setdefault(shape[0], {}).setdefault(client, []).append(got)
                total = shape[1] * shape[2] / 1e6
                print(
                    f"[{rep}] {client:<12} {shape[0]:<15} put {got['put_s']:7.3f} s"
                    f" ({total / got['put_s']:6.1f} MB/s)  get {got['get_s']:7.3f} s"
                    f" ({total / got['get_s']:6.1f} MB/s)",
                    flush=True,
                )
    medians: dict[str, dict[str, dict[str, float]]] = {}
    for shape in ctx.shapes():
        total = shape[1] * shape[2] / 1e6
        for client, reps in runs.get(shape[0], {}).items():
            for op in ("put", "get"):
                secs = median([r[f"{op}_s"] for r in reps])
                assert secs is not None
                medians.setdefault(shape[0], {}).setdefault(op, {})[client] = {
                    "median_s": secs,
                    "mb_per_s": total / secs,
                    "seconds": [r[f"{op}_s"] for r in reps],
                }
    return {"bucket": bucket, "medians": medians, "failures": failures,
            "moto_memory_mib": ctx.moto_memory()}  # fmt: skip


def client_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Section 1: obstore vs boto3 throughput, per shape and operation."""
    rows = []
    for shape, ops in data["medians"].items():
        for op, by_client in ops.items():
            obs, bot = by_client.get("obstore"), by_client.get("boto3")
            ratio = obs["mb_per_s"] / bot["mb_per_s"] if obs and bot else None
            rows.append({
                "shape": shape, "op": op,
                "obstore_mb_s": obs and obs["mb_per_s"], "boto3_mb_s": bot and bot["mb_per_s"],
                "obstore_s": obs and obs["median_s"], "boto3_s": bot and bot["median_s"],
                "ratio_obstore_over_boto3": ratio,
            })  # fmt: skip
    return rows


def api_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Section 2: stepwell.S3 vs metaflow.S3 and vs the fastest raw client (the ceiling)."""
    rows = []
    for shape, ops in data["medians"].items():
        for op, by_client in ops.items():
            sw, mf = by_client.get("stepwell.S3"), by_client.get("metaflow.S3")
            raws = {c: by_client[c]["mb_per_s"] for c in RAW_CLIENTS if c in by_client}
            ceiling_client = max(raws, key=raws.__getitem__) if raws else None
            ceiling = raws.get(ceiling_client) if ceiling_client else None
            vs_mf = sw["mb_per_s"] / mf["mb_per_s"] if sw and mf else None
            vs_ceiling = sw["mb_per_s"] / ceiling if sw and ceiling else None
            rows.append({
                "shape": shape, "op": op,
                "stepwell_mb_s": sw and sw["mb_per_s"], "metaflow_mb_s": mf and mf["mb_per_s"],
                "stepwell_s": sw and sw["median_s"], "metaflow_s": mf and mf["median_s"],
                "ceiling_mb_s": ceiling, "ceiling_client": ceiling_client,
                "x_metaflow": vs_mf, "x_ceiling": vs_ceiling,
                "verdict_x_metaflow": _at_least(vs_mf, TARGET_API_VS_METAFLOW),
                "verdict_x_ceiling": _at_least(vs_ceiling, TARGET_API_VS_CEILING),
            })  # fmt: skip
    return rows


def _at_least(value: float | None, target: float) -> str:
    if value is None:
        return "n/a"
    return "met" if value >= target else "NOT met"


# -- flows on the S3 datastore --------------------------------------------------------------


def empty_bucket(ctx: Context, bucket: str) -> None:
    """Delete every object in ``bucket`` (moto keeps them in RAM)."""
    import boto3

    s3 = boto3.client("s3", endpoint_url=ctx.server.endpoint_url, **_boto3_creds(ctx))
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        batch = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if batch:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})


def _boto3_creds(ctx: Context) -> dict[str, str]:
    c = ctx.server.credentials
    return {
        "aws_access_key_id": c["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": c["AWS_SECRET_ACCESS_KEY"],
        "region_name": c["AWS_DEFAULT_REGION"],
    }


def run_flow(
    ctx: Context, tool: Tool, flow: str, bucket: str | None, args: Sequence[str] = ()
) -> RunResult:
    """``flow.py run`` in a fresh scratch dir; on the S3 datastore of ``bucket`` unless None.

    The bucket is emptied afterwards.
    """
    with scratch_dir() as scratch:
        path = render_flow(flow, tool, scratch)
        env = run_env(scratch)
        if bucket is not None:
            env.update(ctx.s3_env())
            if tool.name == STEPWELL:
                env.update(ctx.server.environment(bucket, "sw"))
            else:
                env["METAFLOW_DEFAULT_DATASTORE"] = "s3"
                env["METAFLOW_DATASTORE_SYSROOT_S3"] = f"s3://{bucket}/mf"
        argv = [str(tool.python), str(path), *tool.global_args, "run", *args]
        try:
            return time_process(argv, cwd=scratch, env=env, timeout=1200)
        finally:
            if bucket is not None:
                empty_bucket(ctx, bucket)


@dataclass
class FlowSeries:
    seconds: list[float] = field(default_factory=list)
    failed: str | None = None


def _timed(series: FlowSeries, label: str, run: Callable[..., RunResult], *args: Any) -> None:
    if series.failed:
        return
    result = run(*args)
    if result.ok:
        series.seconds.append(result.seconds)
        print(f"{label} {result.seconds:8.3f} s", flush=True)
    else:
        series.failed = result.log_tail
        print(f"{label} FAILED (exit {result.returncode})\n{result.log_tail[-1500:]}", flush=True)


#: (data, flow, baseline): the flow's time minus its baseline's. Against bigdata_baseline
#: (nothing big) the figure includes making the data; against the *_generate baselines
#: (the same data made and summed, not kept) it is persisting and reloading alone.
DATA_ROWS = (
    ("random", "bigdata", "bigdata_baseline"),
    ("compressible", "bigdata_compressible", "bigdata_baseline"),
    ("random, storage only", "bigdata", "bigdata_generate"),
    ("compressible, storage only", "bigdata_compressible", "bigdata_compressible_generate"),
)


def datastore_section(ctx: Context) -> dict[str, Any]:
    """The bigdata flows minus their baselines (DATA_ROWS), per tool, on S3."""
    bucket = ctx.server.new_bucket()
    tools = [ctx.stepwell] + ([ctx.metaflow] if ctx.metaflow else [])
    flows = list(dict.fromkeys(f for _, *pair in DATA_ROWS for f in reversed(pair)))
    series = {(t.name, f): FlowSeries() for t in tools for f in flows}
    for rep in range(1, ctx.repeat + 1):
        for tool in tools:
            for flow in flows:
                label = f"[{rep}] datastore {tool.name:<9} {flow:<21}"
                _timed(series[tool.name, flow], label, run_flow, ctx, tool, flow, bucket)
    rows = []
    for data, flow, baseline in DATA_ROWS:
        added: dict[str, float | None] = {}
        for tool in tools:
            big, base = series[tool.name, flow], series[tool.name, baseline]
            if big.failed or base.failed:
                added[tool.name] = None
            else:
                added[tool.name] = median(
                    [b - a for b, a in zip(big.seconds, base.seconds, strict=True)]
                )
        sw, mf = added.get(STEPWELL), added.get(METAFLOW)
        ratio = sw / mf if sw is not None and mf else None
        rows.append({
            "data": data, "flow": flow, "baseline": baseline,
            "stepwell_added_s": sw, "metaflow_added_s": mf,
            "ratio": ratio, "target": TARGET_DATASTORE, "verdict": verdict(ratio, TARGET_DATASTORE),
        })  # fmt: skip
    return {
        "bucket": bucket,
        "rows": rows,
        "runs": {f"{t}/{f}": vars(s) for (t, f), s in series.items()},
        "moto_memory_mib": ctx.moto_memory(),
    }


def foreach_section(ctx: Context) -> dict[str, Any]:
    """foreach1000 (stepwell) on the S3 datastore and on the local one, interleaved."""
    bucket = ctx.server.new_bucket()
    args = ("--max-num-splits", "1000")
    series = {"local": FlowSeries(), "s3": FlowSeries()}
    for rep in range(1, ctx.repeat + 1):
        for where, b in (("local", None), ("s3", bucket)):
            label = f"[{rep}] foreach1000 stepwell {where:<5}"
            _timed(series[where], label, run_flow, ctx, ctx.stepwell, "foreach1000", b, args)
    local, s3 = (None if s.failed else median(s.seconds) for s in series.values())
    ratio = s3 / local if s3 is not None and local else None
    return {
        "bucket": bucket,
        "local_s": local,
        "s3_s": s3,
        "ratio": ratio,
        "target": TARGET_FOREACH,
        "verdict": verdict(ratio, TARGET_FOREACH),
        "runs": {k: vars(v) for k, v in series.items()},
        "moto_memory_mib": ctx.moto_memory(),
    }


# -- output --------------------------------------------------------------------------------


def _f(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def markdown(results: dict[str, Any], large_mib: int) -> str:
    out: list[str] = []
    if "client" in results:
        out += [
            "### 1. Client library: raw obstore vs raw boto3 (random bytes; MB/s, higher is"
            " better)",
            "",
            f"One PUT / one GET per object, {RAW_THREADS} threads; GET reads into memory.",
            "",
            "| shape | op | obstore MB/s (s) | boto3 MB/s (s) | obstore / boto3 |",
            "|---|---|---:|---:|---:|",
        ]
        for r in results["client"]["rows"]:
            out.append(
                f"| {r['shape']} | {r['op']}"
                f" | {_f(r['obstore_mb_s'])} ({_f(r['obstore_s'], '.2f')})"
                f" | {_f(r['boto3_mb_s'])} ({_f(r['boto3_s'], '.2f')})"
                f" | {_f(r['ratio_obstore_over_boto3'], '.2f')} |"
            )
        out.append("")
    if "api" in results:
        out += [
            "### 2. S3 client API: put_many / get_many (random bytes; MB/s, higher is better)",
            "",
            "get_many downloads to temporary files (both clients); the ceiling is the faster"
            " raw client of section 1 in the same run (GET into memory).",
            "",
            "| shape | op | stepwell.S3 MB/s (s) | metaflow.S3 MB/s (s) | ceiling MB/s |"
            " x Metaflow (≥ 2) | x ceiling (≥ 0.8) |",
            "|---|---|---:|---:|---:|---|---|",
        ]
        for r in results["api"]["rows"]:
            out.append(
                f"| {r['shape']} | {r['op']}"
                f" | {_f(r['stepwell_mb_s'])} ({_f(r['stepwell_s'], '.2f')})"
                f" | {_f(r['metaflow_mb_s'])} ({_f(r['metaflow_s'], '.2f')})"
                f" | {_f(r['ceiling_mb_s'])} {r['ceiling_client'] or ''}"
                f" | {_f(r['x_metaflow'], '.2f')} {r['verdict_x_metaflow']}"
                f" | {_f(r['x_ceiling'], '.2f')} {r['verdict_x_ceiling']} |"
            )
        out.append("")
    if "datastore" in results:
        out += [
            "### 3. S3 datastore: 100 MiB ndarray + 100 MiB DataFrame, added time (s)",
            "",
            "Added time = median over repetitions of (flow minus baseline), both on S3;"
            " `bigdata_baseline` keeps nothing big, the `*_generate` baselines make and sum"
            " the same data without keeping it (storage alone).",
            "",
            "| data | stepwell (s) | Metaflow (s) | ratio | target | verdict |",
            "|---|---:|---:|---:|---|---|",
        ]
        for r in results["datastore"]["rows"]:
            out.append(
                f"| {r['data']} (`{r['flow']}` - `{r.get('baseline', 'bigdata_baseline')}`)"
                f" | {_f(r['stepwell_added_s'], '.2f')}"
                f" | {_f(r['metaflow_added_s'], '.2f')} | {_f(r['ratio'], '.3f')} | ≤ 1/5"
                f" | {r['verdict']} |"
            )
        out.append("")
    if "foreach" in results:
        r = results["foreach"]
        out += [
            "### 4. foreach of 1,000 trivial tasks + join, stepwell: S3 datastore vs local",
            "",
            "| local (s) | S3 (s) | S3 / local | target | verdict |",
            "|---:|---:|---:|---|---|",
            f"| {_f(r['local_s'], '.2f')} | {_f(r['s3_s'], '.2f')} | {_f(r['ratio'], '.2f')}"
            f" | ≤ 2 | {r['verdict']} |",
            "",
        ]
    return "\n".join(out)


def details(results: dict[str, Any]) -> list[str]:
    lines = []
    shared = next((results[n] for n in ("api", "client") if n in results), None)
    if shared is not None:  # sections 1 and 2 share one set of transfers
        data = shared["data"]
        for shape, ops in data["medians"].items():
            for op, by_client in ops.items():
                for client, m in by_client.items():
                    reps = ", ".join(f"{s:.3f}" for s in m["seconds"])
                    lines.append(f"- transfer {shape} {op} {client}: [{reps}] s")
        for key, err in data["failures"].items():
            lines.append(f"- transfer {key} FAILED: {err.strip().splitlines()[-1:]}")
    for name in ("datastore", "foreach"):
        if name in results:
            for key, s in results[name]["runs"].items():
                reps = ", ".join(f"{x:.3f}" for x in s["seconds"])
                failed = " FAILED" if s["failed"] else ""
                lines.append(f"- {name} {key}: [{reps}] s{failed}")
    for name, r in results.items():
        mem = r.get("moto_memory_mib") or r.get("data", {}).get("moto_memory_mib")
        if mem and not (name == "client" and "api" in results):
            lines.append(
                f"- moto_server memory after {name}: RSS {_f(mem.get('VmRSS'), '.0f')} MiB,"
                f" peak {_f(mem.get('VmHWM'), '.0f')} MiB"
            )
    return lines


# -- main ----------------------------------------------------------------------------------


def ensure_metaflow_s3() -> Tool:
    """Metaflow's venv, with boto3 (metaflow.S3 and its S3 datastore need it)."""
    tool = metaflow_tool()
    if subprocess.run([str(tool.python), "-c", "import boto3"], capture_output=True).returncode:
        print(f"Installing boto3 into {METAFLOW_VENV} ...", flush=True)
        pip = [str(METAFLOW_VENV / "bin" / "pip"), "install", "--quiet", "boto3"]
        subprocess.run(pip, check=True)
    return tool


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("client", "api", "datastore", "foreach"):
        parser.add_argument(f"--{name}", action="store_true", help=f"run the {name} section")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (median taken)")
    parser.add_argument("--large-mib", type=int, default=LARGE_MIB_DEFAULT,
                        help="size of each of the 8 large objects (MiB)")  # fmt: skip
    parser.add_argument("--skip-metaflow", action="store_true", help="stepwell (and raw) only")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "s3", help="no suffix")
    return parser.parse_args(argv)


@dataclass
class _Timer:
    started: float = field(default_factory=time.perf_counter)

    def __call__(self) -> float:
        return round(time.perf_counter() - self.started, 1)


def _sections(args: argparse.Namespace) -> Iterator[str]:
    chosen = [s for s in ("client", "api", "datastore", "foreach") if getattr(args, s)]
    yield from chosen or ("client", "api", "datastore", "foreach")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sections = list(_sections(args))
    from stepwell.testing.s3server import S3Server

    sw = stepwell_tool()
    needs_mf = not args.skip_metaflow and bool({"api", "datastore"} & set(sections))
    mf = ensure_metaflow_s3() if needs_mf else None
    tools = [sw] + ([mf] if mf else [])
    prepare_bytecode(tools)
    versions = {t.name: tool_version(t) for t in tools}
    import boto3
    import obstore

    versions.update(obstore=obstore.__version__, boto3=boto3.__version__)
    info = machine_info()
    print(f"{info} versions={versions} repeat={args.repeat} sections={sections}", flush=True)

    results: dict[str, Any] = {}
    timer = _Timer()
    with S3Server.start() as server, scratch_dir("stepwell-bench-s3-") as scratch:
        ctx = Context(server, sw, mf, scratch, args.repeat, args.large_mib)
        print(f"moto_server at {server.endpoint_url}", flush=True)
        if "client" in sections or "api" in sections:
            clients = list(RAW_CLIENTS) + (list(API_CLIENTS) if "api" in sections else [])
            data = transfer_sections(ctx, clients)
            if "client" in sections:
                results["client"] = {"data": data, "rows": client_rows(data)}
            if "api" in sections:
                results["api"] = {"data": data, "rows": api_rows(data)}
            print(f"-- transfers done at {timer()} s", flush=True)
        if "datastore" in sections:
            results["datastore"] = datastore_section(ctx)
            print(f"-- datastore done at {timer()} s", flush=True)
        if "foreach" in sections:
            results["foreach"] = foreach_section(ctx)
            print(f"-- foreach done at {timer()} s", flush=True)

    table = markdown(results, args.large_mib)
    lines = details(results)
    print("\n" + table + "\n" + "\n".join(lines))
    header = (
        f"# S3 benchmark results\n\n{info['date']}, {info['nproc']} CPUs, Python {info['python']},"
        f" versions {versions}, median of {args.repeat}, {timer()} s in all. Server: moto"
        " (one Python process, objects in RAM) on 127.0.0.1 — the bottleneck; compare ratios,"
        " not MB/s.\n\n"
    )
    write_atomic(args.output.with_suffix(".md"), header + table + "\n" + "\n".join(lines) + "\n")
    write_json(
        args.output.with_suffix(".json"),
        {
            "machine": info,
            "versions": versions,
            "repeat": args.repeat,
            "large_object_mib": args.large_mib,
            "server": "moto_server (stepwell.testing.s3server), 127.0.0.1",
            "total_s": timer(),
            "results": results,
        },
    )
    print(f"\nWrote {args.output.with_suffix('.json')} and {args.output.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        _, _, client, count, size, bucket, tmp = sys.argv
        worker_main(client, int(count), int(size), bucket, tmp)
        sys.exit(0)
    os.environ.setdefault("PYTHONPYCACHEPREFIX", str(PYCACHE))
    sys.exit(main())
