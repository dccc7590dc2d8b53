"""``stepwell verify [--repair] [FLOW[/RUN]]``: find damaged or missing blobs; quarantine them.

Exit codes: 0 when every blob the selected runs reference is there and whole;
1 when damage remains (after ``--repair`` too: quarantining does not bring the
content back; re-running the tasks that produced it does) or on a known error;
2 on an internal error.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from stepwell.cli._errors import EXIT_FAILED, cli_errors

#: Without a terminal, one progress line per this many seconds.
_LINE_SECONDS = 10.0
_SHOWN_USES = 3


@click.command(
    "verify",
    help="Check every blob the runs reference (size and hash): of every run, of FLOW, or of "
    "FLOW/RUN_ID. Reports per run what is damaged or missing; exits 1 when damage remains. "
    "--repair moves damaged blobs to quarantine/ in the datastore and notes them, so reads "
    "say what happened and the next run that computes the same value stores it again; it "
    "does not bring their content back: re-run the tasks that produced it.",
)
@click.argument("selection", metavar="[FLOW[/RUN_ID]]", required=False)
@click.option("--repair", is_flag=True, help="Quarantine damaged blobs and note missing ones.")
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=16,
    show_default=True,
    help="Blobs read in parallel.",
)
def verify(selection: str | None, repair: bool, threads: int) -> None:
    from stepwell.client._verify import verify_configured

    with cli_errors(), _progress() as progress:
        report = verify_configured(selection, repair=repair, threads=threads, progress=progress)
    for line in report_lines(report):
        click.echo(line)
    if report.damage_remains:
        sys.exit(EXIT_FAILED)


def report_lines(report: Any) -> Iterator[str]:
    """The report: a summary, then each run (damage in detail), then what to do."""
    if not report.runs:
        yield "No runs to verify."
        return
    rate = report.bytes_read / report.seconds / 1e6 if report.seconds > 0 else 0.0
    yield (
        f"Verified {_count(len(report.runs), 'run')}: {_count(report.blobs, 'blob')}, "
        f"{_size(report.bytes_read)} read in {report.seconds:.2f}s ({rate:.0f} MB/s)."
    )
    for run in report.runs:
        yield from _run_lines(run)
    yield from _advice(report)


def _run_lines(run: Any) -> Iterator[str]:
    counts: dict[str, int] = {}
    for damage in run.damage:
        counts[damage.status] = counts.get(damage.status, 0) + 1
    inline = f", {_count(run.inline, 'inline artifact')}" if run.inline else ""
    if not run.damage:
        yield f"{run.pathspec}: ok ({_count(run.blobs, 'blob')}{inline})"
        return
    found = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    yield f"{run.pathspec}: {found} (of {_count(run.blobs, 'blob')}{inline}; {run.datastore})"
    for damage in run.damage:
        done = f" -> {damage.repair}" if damage.repair else ""
        yield f"  {damage.status:<8} {damage.key}{done}"
        yield f"           {damage.reason}"
        shown = damage.uses[:_SHOWN_USES]
        more = len(damage.uses) - len(shown)
        for use in shown:
            yield f"           used by {use}"
        if more:
            yield f"           ... and {more} more"


def _advice(report: Any) -> Iterator[str]:
    damage = [d for run in report.runs for d in run.damage]
    remaining = [d for d in damage if d.remains]
    bad_runs = sum(1 for run in report.runs if not run.ok)
    if not damage:
        yield "No damage found."
        return
    restored = len({d.key for d in damage if d.repair == "restored"})
    if restored:
        yield f"Restored {_count(restored, 'blob')} from this machine's cache."
    if not remaining:
        yield "No damage remains."
        return
    yield f"Damage remains in {_count(bad_runs, 'run')} of {len(report.runs)}."
    if not report.repaired and any(d.status == "damaged" for d in remaining):
        yield (
            "Run 'stepwell verify --repair' to quarantine the damaged blobs (reads then say "
            "what happened, and the next save of the same value stores it again)."
        )
    else:
        quarantined = len({d.key for d in remaining if d.repair == "quarantined"})
        noted = len({d.key for d in remaining if d.repair == "noted"})
        done = [f"{_count(quarantined, 'blob')} moved to quarantine/"] if quarantined else []
        done += [f"{_count(noted, 'missing blob')} noted"] if noted else []
        if done:
            yield f"Repaired: {', '.join(done)}. Their content is NOT restored."
    if any(d.status in ("damaged", "missing") for d in remaining):
        yield (
            "To restore the content, re-run the tasks that used it (listed above): the next run "
            "that computes the same values stores them again. Then run 'stepwell verify' again."
        )
    if any(d.status == "unreadable" for d in remaining):
        yield "Some blobs could not be read (the storage failed): run 'stepwell verify' again."
    if any(d.status in ("size", "invalid") for d in remaining):
        yield "Some metadata records do not match their blobs: re-run the runs listed above."


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


@contextmanager
def _progress() -> Iterator[Callable[[int, int, int], None]]:
    """A progress callback: a rich bar on a terminal's stderr, else a line every 10 s."""
    if not sys.stderr.isatty():
        last = [time.monotonic()]

        def line(done: int, total: int, read: int) -> None:
            now = time.monotonic()
            if now - last[0] >= _LINE_SECONDS and done < total:
                last[0] = now
                click.echo(f"verify: {done}/{total} blobs, {_size(read)} read", err=True)

        yield line
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = (
        TextColumn("verify"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[read]}"),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("verify", total=None, read="")

        def update(done: int, total: int, read: int) -> None:
            bar.update(task, completed=done, total=total, read=_size(read))

        yield update
