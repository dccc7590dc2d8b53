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


def full_pathspec(spec: str, flow: str | None) -> str:
    """The ``Flow/run/step[/task]`` a command's PATHSPEC names.

    With ``flow`` (``python flow.py``): ``STEP`` (the latest run of the flow in your
    namespace), ``RUN/STEP`` or ``RUN/STEP/TASK``. Without (``stepwell``):
    ``Flow/RUN/STEP[/TASK]``.
    """
    parts = spec.strip("/").split("/")
    if flow is None:
        if len(parts) not in (3, 4) or not all(parts):
            raise StepwellError(
                f"{spec!r} is not a step or task: use Flow/run_id/step[/task_id], "
                "e.g. TrainFlow/12/train (or, in the flow's directory: python flow.py ... "
                "run_id/step)."
            )
        return "/".join(parts)
    if len(parts) == 4 and parts[0] == flow:
        parts = parts[1:]
    if len(parts) not in (1, 2, 3) or not all(parts):
        raise StepwellError(
            f"{spec!r} is not a step or task of {flow}: use STEP (its latest run), "
            "RUN_ID/STEP or RUN_ID/STEP/TASK_ID."
        )
    if len(parts) == 1:
        parts = [latest_run_id(flow), *parts]
    return "/".join([flow, *parts])


def latest_run_id(flow: str) -> str:
    """The id of the flow's newest run in the current namespace."""
    from stepwell.client import Flow, get_namespace

    run = Flow(flow).latest_run
    if run is None:
        raise StepwellError(
            f"{flow} has no run in your namespace ({get_namespace()}): run it first, or name "
            "the run (RUN_ID/STEP, --run-id RUN_ID)."
        )
    return str(run.id)


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


def one_task(pathspec: str) -> str:
    """The task a step or task pathspec names; a step must have exactly one task."""
    tasks = tasks_of(pathspec)
    if len(tasks) == 1:
        return str(tasks[0].pathspec)
    if not tasks:
        raise StepwellError(f"Step {pathspec} has no tasks.")
    names = ", ".join(sorted((str(t.pathspec) for t in tasks), key=len))
    raise StepwellError(
        f"Step {pathspec} has {len(tasks)} tasks; name one: {names}.",
    )


def dump(
    pathspec: str,
    include: Iterable[str],
    to_file: str | None,
    *,
    private: bool = False,
    max_value_size: int = 1000,
) -> None:
    """Print (or pickle to ``to_file``) the artifacts of the tasks ``pathspec`` names.

    Names starting with ``_`` only with ``private`` (or when named in ``include``); a
    value whose stored size is over ``max_value_size`` bytes is printed as a size note.
    """
    wanted = set(include)
    everything: dict[str, dict[str, Any]] = {}
    for task in tasks_of(pathspec):
        artifacts = [a for a in task if _wanted(a.id, wanted, private)]
        missing = wanted - {a.id for a in artifacts}
        if missing:
            raise StepwellError(f"{task.pathspec} has no artifact {', '.join(sorted(missing))}.")
        if to_file is not None:
            everything[task.pathspec] = {a.id: a.data for a in artifacts}
            continue
        click.echo(f"{task.pathspec}:")
        for artifact in sorted(artifacts, key=lambda a: a.id):
            click.echo(f"  {artifact.id} = {_shown(artifact, max_value_size)}")
    if to_file is not None:
        with open(to_file, "wb") as fh:
            pickle.dump(everything, fh)
        click.echo(f"Wrote the artifacts of {len(everything)} task(s) to {to_file}.")


def _wanted(name: str, wanted: set[str], private: bool) -> bool:
    if wanted:
        return name in wanted
    return private or not name.startswith("_")


def _shown(artifact: Any, max_value_size: int) -> str:
    if artifact.size > max_value_size:
        kind = str(artifact.type_name).removeprefix("builtins.")
        return f"<{kind}, {artifact.size:,} bytes: over --max-value-size {max_value_size}>"
    return preview(artifact.data)


def show_logs(
    pathspec: str,
    stream: str | None,
    attempt: int | None,
    follow: bool,
    *,
    timestamps: bool = False,
) -> None:
    """Print the logs of the tasks ``pathspec`` names; ``follow`` waits for more while running.

    Standard output goes to stdout, standard error to stderr; with several tasks, a
    line naming each task goes to stderr before its logs.
    """
    from stepwell.client import Task

    tasks = tasks_of(pathspec)
    for task in tasks:
        if attempt is not None:
            task = Task(task.pathspec, attempt=attempt, _namespace_check=False)
        if len(tasks) > 1:
            click.echo(f"== {task.pathspec}", err=True)
        streams = [stream] if stream else ["stdout", "stderr"]
        if follow:
            _follow(task, streams)
            continue
        for name in streams:
            if timestamps:
                for when, line in task.loglines(name):
                    stamp = f"{when:%Y-%m-%d %H:%M:%S.%f}"[:-3] if when else " " * 23
                    click.echo(f"{stamp} {line}", err=name == "stderr")
                continue
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
            text = str(obj.exception).strip()
            yield f"  exception: {text.splitlines()[-1] if text else obj.exception!r}"
        for artifact in obj:
            if not artifact.id.startswith("_"):
                yield f"  {artifact.id} = {preview(artifact.data)}"
    else:
        for run in obj.runs(limit=10):
            yield f"  run {run.id}: {run.status}"


def change_tags(
    run_pathspec: str,
    action: str,
    tags: Iterable[str] = (),
    *,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
) -> None:
    """``tag add|remove|replace`` on one run, then print its tags.

    ``replace`` takes ``OLD NEW`` or Metaflow's ``--remove OLD... --add NEW...``
    (removals first, then additions).
    """
    from stepwell.client import Run

    run = Run(run_pathspec, _namespace_check=False)
    tags = tuple(tags)
    if action == "add":
        run.add_tags(tags)
    elif action == "remove":
        run.remove_tags(tags)
    elif action == "replace":
        if bool(tags) == bool(add or remove):
            raise StepwellError(
                "tag replace takes two tags (the one to remove, the one to add) or "
                "--remove TAG... --add TAG...; not both."
            )
        if tags:
            if len(tags) != 2:
                raise StepwellError(
                    "tag replace takes two tags: the one to remove, the one to add."
                )
            remove, add = (tags[0],), (tags[1],)
        run.replace_tags(tuple(remove), tuple(add))
    list_tags(run_pathspec)


def list_many_tags(
    flow: str, *, everyone: bool = False, by_tag: bool = False, hide_system_tags: bool = False
) -> None:
    """The tags of every run of yours (``everyone``: anyone's), by run or (``by_tag``) by tag."""
    from stepwell.client import Flow, get_namespace, namespace

    before = get_namespace()
    try:
        if everyone:
            namespace(None)
        runs = list(Flow(flow).runs())
    finally:
        namespace(before)
    if not runs:
        click.echo(f"{flow}: no runs" + ("." if everyone else " of yours (--all: anyone's)."))
        return
    tagged = [
        (run.pathspec, sorted(run.user_tags), [] if hide_system_tags else sorted(run.system_tags))
        for run in runs
    ]
    if not by_tag:
        for pathspec, user, system in tagged:
            click.echo(f"{pathspec}: user tags: {', '.join(user) or '(none)'}")
            if not hide_system_tags:
                click.echo(f"{pathspec}: system tags: {', '.join(system)}")
        return
    holders: dict[str, list[str]] = {}
    for pathspec, user, system in tagged:
        for tag in (*user, *system):
            holders.setdefault(tag, []).append(pathspec.split("/")[1])
    for tag in sorted(holders):
        click.echo(f"{tag}: {', '.join(holders[tag])}")


def list_tags(run_pathspec: str, *, flat: bool = False, hide_system_tags: bool = False) -> None:
    """Print a run's tags: a user line and a system line, or (``flat``) one tag per line."""
    from stepwell.client import Run

    run = Run(run_pathspec, _namespace_check=False)
    user, system = sorted(run.user_tags), [] if hide_system_tags else sorted(run.system_tags)
    if flat:
        for tag in (*user, *system):
            click.echo(tag)
        return
    click.echo(f"{run.pathspec}: user tags: {', '.join(user) or '(none)'}")
    if not hide_system_tags:
        click.echo(f"{run.pathspec}: system tags: {', '.join(system)}")
