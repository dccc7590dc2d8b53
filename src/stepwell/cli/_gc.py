"""``stepwell gc``: delete old runs under a retention policy and free the space only they used.

Parses, asks, renders; the work is :mod:`stepwell.runtime._gc`'s. Without
``--keep-last`` / ``--older-than`` the settings ``gc_keep_last`` /
``gc_older_than_days`` apply; with neither, nothing is deleted and the command
says how to choose. Deleting runs asks first on a terminal; elsewhere (a
script, CI) it needs ``--yes``.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import click

from stepwell.cli._errors import cli_errors

_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_NO_POLICY = (
    "stepwell gc deletes runs only under a retention policy, and none is set.\n"
    "Choose one: --keep-last N (each flow's N newest runs stay) and/or --older-than DAYS "
    "(only runs started more than DAYS days ago go), or set it once: STEPWELL_GC_KEEP_LAST / "
    "STEPWELL_GC_OLDER_THAN_DAYS (or gc_keep_last / gc_older_than_days in stepwell.toml).\n"
    "See first what would go with --dry-run. To free only blobs no run uses: --blobs-only."
)


def _duration(value: str) -> float:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", str(value))
    if match is None:
        raise click.BadParameter(
            f"{value!r} is not a duration: use seconds or a number with s, m, h or d (e.g. 1h).",
            param_hint="--grace",
        )
    return float(match[1]) * _UNITS[match[2]]


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1000
    return f"{n} B"  # pragma: no cover


def _progress(enabled: bool) -> Any:
    last = [""]

    def show(phase: str, done: int) -> None:
        if phase != last[0] and last[0]:
            click.echo("", err=True)
        last[0] = phase
        click.echo(f"\r  {phase}: {done:,}", nl=False, err=True)

    def end() -> None:
        if last[0]:
            click.echo("", err=True)

    return (show if enabled else None), end


@click.command(
    help="Delete old runs (a retention policy) and free the blobs and logs only they used."
)
@click.option(
    "--keep-last",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Keep each flow's N newest runs (default: the gc_keep_last setting).",
)
@click.option(
    "--older-than",
    type=click.FloatRange(min=0),
    default=None,
    metavar="DAYS",
    help="Delete only runs started more than DAYS days ago "
    "(default: the gc_older_than_days setting).",
)
@click.option("--flow", default=None, help="Delete runs of this flow only.")
@click.option(
    "--dry-run", is_flag=True, help="Show what would be deleted and freed; change nothing."
)
@click.option(
    "--blobs-only", is_flag=True, help="Delete no run: only free blobs and logs no run refers to."
)
@click.option(
    "--grace",
    default="1h",
    show_default=True,
    metavar="DURATION",
    help="Keep unreferenced blobs written less than this long ago (a run in "
    "progress writes blobs before it records them): 0, 90s, 30m, 1h, 2d.",
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask before deleting runs.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def gc(
    keep_last: int | None, older_than: float | None, flow: str | None, dry_run: bool,
    blobs_only: bool, grace: str, yes: bool, as_json: bool,
) -> None:  # fmt: skip
    grace_seconds = _duration(grace)
    with cli_errors():
        from stepwell.config import load_settings
        from stepwell.runtime._retention import Retention

        settings = load_settings()
        retention = None
        if not blobs_only:
            retention = Retention(
                keep_last if keep_last is not None else settings.gc_keep_last,
                older_than if older_than is not None else settings.gc_older_than_days,
            )
            if not retention.is_set:
                raise click.UsageError(_NO_POLICY)
        _collect(settings, retention, flow, dry_run, grace_seconds, yes, as_json)


def _collect(
    settings: Any, retention: Any, flow: str | None, dry_run: bool, grace: float, yes: bool,
    as_json: bool,
) -> None:  # fmt: skip
    import time

    from stepwell.metadata import open_configured_metadata
    from stepwell.runtime._gc import GarbageCollector, plan_gc
    from stepwell.store import open_storage

    metadata = open_configured_metadata(settings)
    datastore = settings.datastore_url
    plan = plan_gc(metadata, retention, default_datastore=datastore, flow=flow, now=time.time())
    doomed = sum(len(p.delete) for p in plan.flows)
    if not as_json:
        _echo_plan(plan, retention, dry_run)
    if doomed and not dry_run and not yes:
        if not sys.stdin.isatty():
            raise click.UsageError(
                f"Not deleting {doomed} run(s) without confirmation: no terminal to ask on. "
                "Pass --yes to delete them, or --dry-run to only look."
            )
        click.confirm(f"Delete {doomed} run(s) and the blobs only they use?", abort=True)
    show, end = _progress(sys.stderr.isatty() and not as_json)
    collector = GarbageCollector(
        metadata,
        home=settings.home,
        open_storage=lambda url: open_storage(url, endpoint_url=settings.s3_endpoint_url),
        grace=grace,
        progress=show,
    )
    report = collector.run(plan, dry_run=dry_run)
    end()
    if as_json:
        click.echo(json.dumps(_as_dict(report), indent=2))
    else:
        _echo_report(report)


def _echo_plan(plan: Any, retention: Any, dry_run: bool) -> None:
    if retention is None:
        click.echo("Deleting no runs (--blobs-only).")
        return
    click.echo(f"Policy: {retention.describe()}.")
    if not plan.flows:
        click.echo("No runs.")
    verb = "would delete" if dry_run else "delete"
    for p in plan.flows:
        why = ", ".join(f"{n} {reason}" for reason, n in sorted(p.protected.items()))
        click.echo(
            f"  {p.flow_name}: {verb} {len(p.delete)} run(s), keep {p.kept}"
            + (f" (protected: {why})" if why else "")
        )


def _echo_report(report: Any) -> None:
    done = "Would free" if report.dry_run else "Freed"
    if not report.dry_run:
        for flow, ids in report.runs_deleted.items():
            if ids:
                shown = ", ".join(ids[:10]) + (
                    f", ... ({len(ids)} in all)" if len(ids) > 10 else ""
                )
                click.echo(f"  {flow}: deleted run(s) {shown}")
    click.echo(
        f"{done} {report.blobs.count:,} blob(s), {_size(report.blobs.bytes)}; "
        f"{report.logs.count:,} log file(s), {_size(report.logs.bytes)}."
    )
    click.echo(f"Kept {report.blobs_referenced:,} blob(s) that surviving runs use. "
               f"({report.seconds:.1f} s)")  # fmt: skip
    if report.blobs_recent:
        click.echo(
            f"Kept {report.blobs_recent:,} unused blob(s) written less than --grace ago "
            "(a run in progress writes blobs before it records them): a later pass frees them."
        )


def _as_dict(report: Any) -> dict[str, Any]:
    return {
        "dry_run": report.dry_run,
        "flows": [
            {
                "flow": p.flow_name,
                "runs_deleted": report.runs_deleted.get(p.flow_name, []),
                "runs_kept": p.kept,
                "protected": p.protected,
            }
            for p in report.flows
        ],
        "blobs": {"count": report.blobs.count, "bytes": report.blobs.bytes},
        "logs": {"count": report.logs.count, "bytes": report.logs.bytes},
        "blobs_referenced": report.blobs_referenced,
        "blobs_recent": report.blobs_recent,
        "datastores": report.datastores,
        "seconds": round(report.seconds, 3),
        "phases": {k: round(v, 3) for k, v in report.phases.items()},
    }
