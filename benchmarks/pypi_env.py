"""@pypi environments: the first build against venv + pip, and a cached run against none.

stepwell only. Metaflow's @pypi was not measured: it needs micromamba/conda and
its ``--environment=pypi`` bootstrap, which cannot run here. The comparison is
against plain ``python -m venv`` + ``pip install``, the issue's stated baseline.

1. First build of an environment with three small pure-Python packages
   (``PACKAGES``, pinned; the project's venv lacks them). Per repetition, interleaved:
   ``venv+pip``: ``python -m venv DIR && DIR/bin/pip install P1 P2 P3``, one process;
   ``ensure`` (the primary figure): ``EnvironmentStore(...).ensure(spec)`` timed in
   this process, in a fresh store (uv pip compile, uv venv, uv pip sync);
   ``run - plain`` (a cross-check): ``flows/pypi_env.py run`` minus
   ``flows/pypi_env_plain.py run`` (the same flow without @pypi), each in a fresh
   ``STEPWELL_HOME``; it also holds the cached-run cost of figure 2.
   Two cache states: warm (pip's cache, ``PIP_CACHE_DIR``, and uv's, ``UV_CACHE_DIR``,
   both in the scratch directory, kept across repetitions and filled by one untimed
   warm-up) and cold (``pip --no-cache-dir``; a fresh, empty ``UV_CACHE_DIR`` each time).
   stepwell's environment also holds stepwell's own runtime requirements (click, rich,
   blake3, zstandard and their dependencies), so it installs more packages than the
   baseline. pip keeps this machine's configuration, as a user's pip would (pip.conf
   files and ``PIP_*`` variables: a find-links directory, ``file://`` extra indexes, a
   constraints file); uv reads none of it. Target: ``ensure`` <= 1/5 of ``venv+pip``.
2. A run whose environment is built already: ``start -> work -> end`` with ``@pypi``
   on ``work`` (which imports none of them: the figure is stepwell's cost, not the
   packages') against the same flow without it,
   the same ``STEPWELL_HOME`` throughout (built by one untimed run), interleaved, whole
   process. Target: <= 100 ms slower. And a foreach of ``--width`` ``@pypi`` tasks
   against the same without: the difference per task (target: milliseconds).

Everything is written inside one scratch directory, removed afterwards.

    .venv/bin/python benchmarks/pypi_env.py [--repeat 5] [--skip-cold] [--width 200]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import shutil
import sys
import time
from pathlib import Path

from _common import (
    PYCACHE,
    RESULTS_DIR,
    machine_info,
    median,
    prepare_bytecode,
    render_flow,
    run_env,
    scratch_dir,
    stepwell_tool,
    time_process,
    verdict,
    write_json,
)

from stepwell.environments import (
    EnvironmentBuildError,
    EnvironmentSpec,
    EnvironmentStore,
    RuntimeRequirements,
    runtime_requirements,
)

PACKAGES = (("humanize", "4.9.0"), ("tabulate", "0.9.0"), ("tomli-w", "1.1.0"))
SPEC = EnvironmentSpec("pypi", None, PACKAGES)
TARGET_RATIO = 1 / 5
TARGET_MS = 100.0
NOT_MEASURED = "Metaflow's @pypi: not measured (needs micromamba/conda; baseline is venv + pip)"


def _timed(argv: list[str], cwd: Path, env: dict[str, str], what: str) -> float | None:
    """Wall seconds of one process, or None (reported) if it failed."""
    result = time_process(argv, cwd=cwd, env=env)
    if result.ok:
        return result.seconds
    print(f"{what} FAILED (exit {result.returncode}):\n{result.log_tail}", file=sys.stderr)
    return None


def _pip_argv(venv: Path, cold: bool) -> list[str]:
    pins = " ".join(f"{name}=={version}" for name, version in PACKAGES)
    python, pip = shlex.quote(sys.executable), shlex.quote(str(venv / "bin" / "pip"))
    no_cache = " --no-cache-dir" if cold else ""
    return [
        "sh",
        "-c",
        f"{python} -m venv {shlex.quote(str(venv))} && {pip} install{no_cache} {pins}",
    ]


def _ensure(root: Path, uv_cache: Path, runtime: RuntimeRequirements) -> tuple[float | None, int]:
    """Seconds to resolve and build the environment in a fresh store; packages it holds."""
    saved = os.environ.get("UV_CACHE_DIR")
    os.environ["UV_CACHE_DIR"] = str(uv_cache)
    try:
        start = time.perf_counter()
        built = EnvironmentStore(root, runtime=runtime).ensure(SPEC, ["work"])
        return time.perf_counter() - start, len(built.lock.packages)
    except EnvironmentBuildError as error:
        print(f"ensure FAILED:\n{error}", file=sys.stderr)
        return None, 0
    finally:
        if saved is None:
            del os.environ["UV_CACHE_DIR"]
        else:
            os.environ["UV_CACHE_DIR"] = saved


def _first_build_rep(rep: Path, env: dict[str, str], cold: bool, flows: dict[str, Path]) -> dict:
    """One repetition of figure 1: venv+pip, ensure, and both runs, each in a fresh place."""
    rep.mkdir(parents=True)
    uv = {k: rep / f"uv-{k}" if cold else Path(env["UV_CACHE_DIR"]) for k in ("ensure", "run")}
    found = {"pip": _timed(_pip_argv(rep / "venv", cold), rep, env, "venv+pip")}
    found["ensure"], found["packages"] = _ensure(
        rep / "ensure", uv["ensure"], runtime_requirements()
    )
    for name, flow in flows.items():
        run = {**env, "STEPWELL_HOME": str(rep / f"home-{name}"), "UV_CACHE_DIR": str(uv["run"])}
        found[name] = _timed([sys.executable, str(flow), "run"], rep, run, f"{name} run")
    shutil.rmtree(rep, ignore_errors=True)
    return found


def first_build(state: Path, cold: bool, repeat: int, flows: dict[str, Path]) -> dict:
    env = {**run_env(state), "PIP_CACHE_DIR": str(state / "pip-cache")}
    env["UV_CACHE_DIR"] = str(state / "uv-cache")
    if not cold:
        _first_build_rep(state / "warm-up", env, cold, flows)  # fills both caches, untimed
    reps = [_first_build_rep(state / f"rep{i}", env, cold, flows) for i in range(repeat)]
    runs = {key: [r[key] for r in reps] for key in ("pip", "ensure", "pypi", "plain")}
    m = {key: median([t for t in values if t is not None]) for key, values in runs.items()}
    ratio = m["ensure"] / m["pip"] if m["ensure"] is not None and m["pip"] else None
    cross = m["pypi"] - m["plain"] if m["pypi"] is not None and m["plain"] is not None else None
    return {
        "venv_pip_s": m["pip"],
        "ensure_s": m["ensure"],
        "ratio": ratio,
        "verdict": verdict(ratio, TARGET_RATIO),
        "run_minus_plain_s": cross,
        "run_ratio": cross / m["pip"] if cross is not None and m["pip"] else None,
        "packages_in_environment": max(r["packages"] for r in reps),
        "runs": runs,
    }


def cached_runs(home: Path, repeat: int, width: int, flows: dict[str, Path]) -> dict:
    """Figure 2: the linear and foreach flows with their environment built, and without."""
    home.mkdir(parents=True)
    env = {**run_env(home), "UV_CACHE_DIR": str(home / "uv-cache")}
    shapes = {"run": (env, ()), "foreach": ({**env, "PYPI_ENV_FOREACH": "1"}, ("--n", str(width)))}
    cases = [(shape, name) for shape in shapes for name in flows]
    argv = {c: [sys.executable, str(flows[c[1]]), "run", *shapes[c[0]][1]] for c in cases}
    for case in cases:  # builds the environment, warms the bytecode: untimed
        _timed(argv[case], home, shapes[case[0]][0], f"{case} warm-up")
    runs: dict = {case: [] for case in cases}
    for _ in range(repeat):
        for case in cases:
            runs[case].append(_timed(argv[case], home, shapes[case[0]][0], f"{case}"))
    m = {case: median([t for t in values if t is not None]) for case, values in runs.items()}
    out: dict = {}
    for shape in shapes:
        pypi, plain = m[(shape, "pypi")], m[(shape, "plain")]
        extra_ms = 1000 * (pypi - plain) if pypi is not None and plain is not None else None
        out[shape] = {
            "pypi_s": pypi,
            "plain_s": plain,
            "extra_ms": extra_ms,
            "pypi_runs": runs[(shape, "pypi")],
            "plain_runs": runs[(shape, "plain")],
        }
    out["run"]["verdict"] = verdict(out["run"]["extra_ms"], TARGET_MS)
    per_task = out["foreach"]["extra_ms"]
    out["foreach"]["tasks"] = width
    out["foreach"]["ms_per_task"] = per_task / width if per_task is not None else None
    return out


def _f(value: float | None, spec: str = ".3f") -> str:
    return "FAILED" if value is None else format(value, spec)


def report(first: dict, cached: dict, width: int) -> None:
    packages = ", ".join(f"{n}=={v}" for n, v in PACKAGES)
    print(f"\nFirst build of an environment with {packages} (median s)")
    print("  stepwell's environment also holds its own runtime requirements: "
          f"{max(r['packages_in_environment'] for r in first.values())} packages vs 3")  # fmt: skip
    print(f"  {'cache':6s} {'venv+pip':>9s} {'ensure':>8s} {'ratio':>7s} {'target <=0.2':>12s}"
          f" {'run-plain':>10s} {'ratio':>7s}")  # fmt: skip
    for state, r in first.items():
        print(f"  {state:6s} {_f(r['venv_pip_s']):>9s} {_f(r['ensure_s']):>8s} "
              f"{_f(r['ratio']):>7s} {r['verdict']:>12s} {_f(r['run_minus_plain_s']):>10s} "
              f"{_f(r['run_ratio']):>7s}")  # fmt: skip
    run, fe = cached["run"], cached["foreach"]
    print("\nRun with its environment cached (median s)")
    print(
        f"  start->work->end  @pypi {_f(run['pypi_s'])}  plain {_f(run['plain_s'])}  "
        f"-> +{_f(run['extra_ms'], '.1f')} ms (target <= {TARGET_MS:g} ms: {run['verdict']})"
    )
    print(
        f"  foreach {width:5d}     @pypi {_f(fe['pypi_s'])}  plain {_f(fe['plain_s'])}  "
        f"-> +{_f(fe['extra_ms'], '.1f')} ms, {_f(fe['ms_per_task'], '.2f')} ms per task"
    )
    print(f"\n{NOT_MEASURED}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-cold", action="store_true", help="the warm cache state only")
    parser.add_argument("--width", type=int, default=200, help="@pypi tasks in the foreach")
    args = parser.parse_args(argv)
    tool = stepwell_tool()
    prepare_bytecode([tool])
    info = machine_info()
    with scratch_dir() as scratch:
        flows = {name: render_flow(f"pypi_env{suffix}", tool, scratch / name)
                 for name, suffix in (("pypi", ""), ("plain", "_plain"))}  # fmt: skip
        states = ["warm"] + ([] if args.skip_cold else ["cold"])
        first = {s: first_build(scratch / s, s == "cold", args.repeat, flows) for s in states}
        cached = cached_runs(scratch / "cached", args.repeat, args.width, flows)
    # The environments import stepwell through a link in their home: bytecode cached per home.
    leftover = PYCACHE / scratch.relative_to(scratch.anchor)
    shutil.rmtree(leftover, ignore_errors=True)
    with contextlib.suppress(OSError):
        leftover.parent.rmdir()  # only if empty
    report(first, cached, args.width)
    info["load_avg_1m_after"] = os.getloadavg()[0]
    results = {"machine": info, "packages": dict(PACKAGES), "first_build": first,
               "cached_run": cached, "metaflow": NOT_MEASURED}  # fmt: skip
    write_json(RESULTS_DIR / "pypi_env.json", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
