"""Commands that read past runs: dump, logs, tag, runs, show (through the Client API)."""

from __future__ import annotations

import pickle
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any

import click

from stepwell.exceptions import StepwellError

_VALUE_WIDTH = 120


def preview(value: Any) -> str:
    """A short, one-line view of an artifact value."""
    shape = getattr(value, "shape", None)
    if shape is not None and hasattr(value, "dtype"):
        return f"{type(value).__name__} shape={tuple(shape)} dtype={value.dtype}"
    if shape is not None:
        return f"{type(value).__name__} shape={tuple(shape)}"
    text = repr(value)
    return text if len(text) <= _VALUE_WIDTH else text[: _VALUE_WIDTH - 3] + "..."


def tasks_of(pathspec: str) -> list[Any]:
    """The tasks a pathspec names: ``Flow/run/step/task``, or every task of ``Flow/run/step``."""
    from stepwell.client import Step, Task

    depth = pathspec.strip("/").count("/")
    if depth == 3:
        return [Task(pathspec, _namespace_check=False)]
    if depth == 2:
        return list(Step(pathspec, _namespace_check=False))
    raise StepwellError(
        f"{pathspec!r} is not a step or task: use Flow/run_id/step[/task_id] "
        "(with `python flow.py`: run_id/step[/task_id])."
    )


def dump(pathspec: str, include: Iterable[str], to_file: str | None) -> None:
    """Print (or pickle to ``to_file``) the artifacts of the tasks ``pathspec`` names."""
    wanted = set(include)
    everything: dict[str, dict[str, Any]] = {}
    for task in tasks_of(pathspec):
        values = {a.id: a.data for a in task if not wanted or a.id in wanted}
        missing = wanted - set(values)
        if missing:
            raise StepwellError(f"{task.pathspec} has no artifact {', '.join(sorted(missing))}.")
        everything[task.pathspec] = values
        if to_file is None:
            click.echo(f"{task.pathspec}:")
            for name, value in sorted(values.items()):
                if not name.startswith("_"):
                    click.echo(f"  {name} = {preview(value)}")
    if to_file is not None:
        with open(to_file, "wb") as fh:
            pickle.dump(everything, fh)
        click.echo(f"Wrote the artifacts of {len(everything)} task(s) to {to_file}.")


def show_logs(pathspec: str, stream: str | None, attempt: int | None, follow: bool) -> None:
    """Print the logs of the tasks ``pathspec`` names; ``follow`` waits for more while running."""
    from stepwell.client import Task

    for task in tasks_of(pathspec):
        if attempt is not None:
            task = Task(task.pathspec, attempt=attempt, _namespace_check=False)
        streams = [stream] if stream else ["stdout", "stderr"]
        if follow:
            _follow(task, streams)
            continue
        for name in streams:
            text = getattr(task, name)
            if text:
                click.echo(text, nl=not text.endswith("\n"), err=name == "stderr")


def _follow(task: Any, streams: list[str]) -> None:
    """Print new lines as the task writes them, until it has finished."""
    from stepwell.client import Task

    printed = dict.fromkeys(streams, 0)
    while True:
        for name in streams:
            lines = [line for _, line in task.loglines(name)]
            for line in lines[printed[name] :]:
                click.echo(line, err=name == "stderr")
            printed[name] = len(lines)
        if task.finished:
            return
        time.sleep(0.2)
        task = Task(task.pathspec, _namespace_check=False)


def runs_table(flow: str | None, limit: int) -> None:
    """A table of runs, newest first: id, status, started, duration, user, tags."""
    from stepwell.client import Flow, Metaflow, namespace

    namespace(None)
    flows = [Flow(flow)] if flow else Metaflow().flows
    rows: list[tuple[str, ...]] = []
    for each in flows:
        for run in each.runs(limit=limit):
            started, finished = run.created_at, run.finished_at
            took = f"{(finished - started).total_seconds():.1f}s" if started and finished else ""
            when = f"{started:%Y-%m-%d %H:%M:%S}" if started else ""
            tags = ", ".join(sorted(run.user_tags))
            rows.append((run.pathspec, run.status, when, took, run.user, tags))
    _table(("run", "status", "started", "duration", "user", "tags"), rows)


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(*header, box=None)
        for row in rows:
            table.add_row(*row)
        Console().print(table)
        return
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(header)]
    for row in (header, *rows):
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def describe(pathspec: str) -> Iterator[str]:
    """Lines describing a flow, run, step or task."""
    from stepwell.client import Flow, Run, Step, Task

    depth = pathspec.strip("/").count("/")
    kind = {0: Flow, 1: Run, 2: Step, 3: Task}.get(depth)
    if kind is None:
        raise StepwellError(f"{pathspec!r} is not a pathspec: use Flow[/run[/step[/task]]].")
    obj: Any = kind(pathspec) if kind is Flow else kind(pathspec, _namespace_check=False)
    yield f"{kind.__name__} {obj.pathspec}"
    if isinstance(obj, Run):
        yield f"  status: {obj.status}   user: {obj.user}   started: {obj.created_at}"
        yield f"  tags: {', '.join(sorted(obj.tags))}"
        yield f"  parameters: {obj.parameters}"
        code = obj.code
        yield f"  datastore: {obj.datastore_root}"
        if code is not None:
            yield f"  code: {code.path}"
        for step in obj:
            yield f"  step {step.id}: {len(list(step))} task(s)"
    elif isinstance(obj, Step):
        for task in obj:
            yield f"  task {task.id}: {'ok' if task.successful else 'failed'}"
    elif isinstance(obj, Task):
        yield f"  successful: {obj.successful}   attempt: {obj.current_attempt}"
        if obj.exception:
            yield f"  exception: {obj.exception.splitlines()[-1]}"
        for artifact in obj:
            if not artifact.id.startswith("_"):
                yield f"  {artifact.id} = {preview(artifact.data)}"
    else:
        for run in obj.runs(limit=10):
            yield f"  run {run.id}: {run.status}"


def change_tags(flow: str, run_id: str, action: str, tags: tuple[str, ...]) -> None:
    """``tag add|remove|replace|list`` on one run."""
    from stepwell.client import Run

    run = Run(f"{flow}/{run_id}", _namespace_check=False)
    if action == "add":
        run.add_tags(tags)
    elif action == "remove":
        run.remove_tags(tags)
    elif action == "replace":
        if len(tags) != 2:
            raise StepwellError("tag replace takes two tags: the one to remove, the one to add.")
        run.replace_tag(tags[0], tags[1])
    run = Run(f"{flow}/{run_id}", _namespace_check=False)
    click.echo(f"{run.pathspec}: user tags: {', '.join(sorted(run.user_tags)) or '(none)'}")
    click.echo(f"{run.pathspec}: system tags: {', '.join(sorted(run.system_tags))}")
