"""dump, logs, tag and card: the commands that read past runs, for both command lines.

``python flow.py dump 12/start`` and ``stepwell dump TrainFlow/12/start`` are the
same command: :func:`add_read_commands` adds them to a group, given the flow's
name (``python flow.py``: pathspecs start at the run, or at the step for the
latest run) or ``None`` (``stepwell``: pathspecs start at the flow).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import click

from stepwell.cli import _inspect
from stepwell.cli._errors import cli_errors


def add_read_commands(group: click.Group, flow: str | None) -> None:
    """Add dump, logs, tag and card to ``group``."""
    spec = "[RUN/]STEP[/TASK]" if flow else "FLOW/RUN/STEP[/TASK]"

    def resolve(pathspec: str) -> str:
        return _inspect.full_pathspec(pathspec, flow)

    @group.command(help=f"Print the artifacts of a task or of every task of a step: dump {spec}.")
    @click.argument("pathspec", metavar=spec)
    @click.option(
        "--max-value-size",
        type=click.IntRange(min=0),
        default=1000,
        show_default=True,
        help="Print values stored in more bytes than this as a size note (0: names only).",
    )
    @click.option("--private/--no-private", default=False, help="Also artifacts named _*.")
    @click.option("--include", default="", help="Only these artifacts (comma-separated).")
    @click.option("--file", "to_file", default=None, help="Pickle the artifacts to this file.")
    def dump(
        pathspec: str, max_value_size: int, private: bool, include: str, to_file: str | None
    ) -> None:
        with cli_errors():
            names = [n.strip() for n in include.split(",") if n.strip()]
            _inspect.dump(
                resolve(pathspec),
                names,
                to_file,
                private=private,
                max_value_size=max_value_size,
            )

    @group.command(help=f"Print the logs of a task or of every task of a step: logs {spec}.")
    @click.argument("pathspec", metavar=spec)
    @click.option("--stdout", "stream", flag_value="stdout", help="Only standard output.")
    @click.option("--stderr", "stream", flag_value="stderr", help="Only standard error.")
    @click.option("--both", "stream", flag_value="both", help="Both streams (the default).")
    @click.option("--timestamps", is_flag=True, help="Start each line with when it was written.")
    @click.option("--attempt", type=click.IntRange(min=0), default=None, help="This attempt.")
    @click.option("--follow", is_flag=True, help="Keep printing while the task runs.")
    def logs(
        pathspec: str, stream: str | None, timestamps: bool, attempt: int | None, follow: bool
    ) -> None:
        with cli_errors():
            _inspect.show_logs(
                resolve(pathspec),
                None if stream == "both" else stream,
                attempt,
                follow,
                timestamps=timestamps,
            )

    group.add_command(_tag_group(flow))
    group.add_command(_card_group(spec, resolve))


def _run_of(flow: str | None, run_id: str | None) -> str:
    """``Flow/run`` of ``--run-id`` (``python flow.py``: RUN, default the latest)."""
    if flow is not None:
        if run_id and run_id.startswith(f"{flow}/"):
            return run_id
        return f"{flow}/{run_id or _inspect.latest_run_id(flow)}"
    if not run_id:
        raise click.UsageError("Name the run: --run-id FLOW/RUN (or FLOW for its latest run).")
    if "/" not in run_id.strip("/"):
        return f"{run_id}/{_inspect.latest_run_id(run_id)}"
    return run_id.strip("/")


def _tag_group(flow: str | None) -> click.Group:
    run_help = "The run (default: your latest)." if flow else "FLOW/RUN (FLOW: its latest run)."
    run_option = click.option("--run-id", default=None, help=run_help)

    @click.group(help="Add, remove, replace or list the tags of a run.")
    def tag() -> None:
        pass

    @tag.command(help="Add tags to a run.")
    @click.argument("tags", nargs=-1, required=True)
    @run_option
    def add(tags: tuple[str, ...], run_id: str | None) -> None:
        with cli_errors():
            _inspect.change_tags(_run_of(flow, run_id), "add", tags)

    @tag.command(help="Remove tags from a run.")
    @click.argument("tags", nargs=-1, required=True)
    @run_option
    def remove(tags: tuple[str, ...], run_id: str | None) -> None:
        with cli_errors():
            _inspect.change_tags(_run_of(flow, run_id), "remove", tags)

    @tag.command(help="Replace tags: replace OLD NEW, or --remove OLD... --add NEW...")
    @click.argument("tags", nargs=-1)
    @click.option("--add", "to_add", multiple=True, help="A tag to add (repeatable).")
    @click.option("--remove", "to_remove", multiple=True, help="A tag to remove (repeatable).")
    @run_option
    def replace(
        tags: tuple[str, ...], to_add: tuple[str, ...], to_remove: tuple[str, ...],
        run_id: str | None,
    ) -> None:  # fmt: skip
        with cli_errors():
            _inspect.change_tags(
                _run_of(flow, run_id), "replace", tags, add=to_add, remove=to_remove
            )

    @tag.command("list", help="List the tags of a run, or of many runs (--my-runs, --all).")
    @click.argument("arg_run_id", metavar="[RUN]", required=False)
    @run_option
    @click.option("--flat", is_flag=True, help="One tag per line.")
    @click.option("--hide-system-tags", is_flag=True, help="Only the user tags.")
    @click.option("--my-runs", is_flag=True, help="Every run of yours of the flow.")
    @click.option("--all", "all_runs", is_flag=True, help="Every run of the flow, anyone's.")
    @click.option("--group-by-tag", is_flag=True, help="Each tag with the runs that have it.")
    @click.option("--group-by-run", is_flag=True, help="Each run with its tags (the default).")
    def list_(
        arg_run_id: str | None, run_id: str | None, flat: bool, hide_system_tags: bool,
        my_runs: bool, all_runs: bool, group_by_tag: bool, group_by_run: bool,
    ) -> None:  # fmt: skip
        with cli_errors():
            if my_runs or all_runs or group_by_tag:
                name = flow or (run_id or arg_run_id or "").split("/")[0]
                if not name:
                    raise click.UsageError("Name the flow: tag list --all --run-id FLOW.")
                _inspect.list_many_tags(
                    name, everyone=all_runs, by_tag=group_by_tag,
                    hide_system_tags=hide_system_tags,
                )  # fmt: skip
                return
            _inspect.list_tags(
                _run_of(flow, run_id or arg_run_id), flat=flat, hide_system_tags=hide_system_tags
            )

    return tag


def _card_group(spec: str, resolve: Callable[[str], str]) -> click.Group:
    card_spec = spec.replace("[RUN/]STEP[/TASK]", "STEP|RUN/STEP|RUN/STEP/TASK")

    def task_of(pathspec: str) -> str:
        return _inspect.one_task(resolve(pathspec))

    def filters(command: Callable[..., None]) -> Callable[..., None]:
        for option in (
            click.option("--follow-resumed/--no-follow-resumed", default=True, hidden=True),
            click.option("--hash", "card_hash", default=None, help="The card with this hash."),
            click.option("--type", "card_type", default=None, help="The card of this type."),
            click.option("--id", "card_id", default=None, help="The card with this id."),
        ):
            command = option(command)
        return command

    @click.group(help=f"List, save or open the cards of a task: card list|get|view {card_spec}.")
    def card() -> None:
        pass

    @card.command("list", help="List the cards of a task, or of every task of a step.")
    @click.argument("pathspec", metavar=card_spec)
    @filters
    @click.option("--as-json", is_flag=True, help="Print the list as JSON.")
    @click.option("--file", "to_file", default=None, help="Write the JSON list to this file.")
    def list_(
        pathspec: str, card_id: str | None, card_type: str | None, card_hash: str | None,
        follow_resumed: bool, as_json: bool, to_file: str | None,
    ) -> None:  # fmt: skip
        from stepwell import cards

        with cli_errors():
            tasks = [str(t.pathspec) for t in _inspect.tasks_of(resolve(pathspec))]
            if as_json or to_file:
                found = [
                    cards.card_summaries(task, id=card_id, type=card_type, hash=card_hash)
                    for task in tasks
                ]  # one task: its summary; a step of several: a list of them
                _write_json(found[0] if len(found) == 1 else found, to_file)
                return
            for task in tasks:
                if len(tasks) > 1:  # several tasks: each one's cards under its pathspec
                    click.echo(f"{task}:")
                for line in cards.list_cards(task, id=card_id, type=card_type, hash=card_hash):
                    click.echo(f"  {line}" if len(tasks) > 1 else line)

    @card.command(help="Print a card's HTML, or save it to FILE.")
    @click.argument("pathspec", metavar=card_spec)
    @click.argument("path", metavar="[FILE]", required=False)
    @filters
    def get(
        pathspec: str, path: str | None, card_id: str | None, card_type: str | None,
        card_hash: str | None, follow_resumed: bool,
    ) -> None:  # fmt: skip
        from stepwell import cards

        with cli_errors():
            html = cards.card_html(task_of(pathspec), id=card_id, type=card_type, hash=card_hash)
            if path is None:
                click.echo(html)
                return
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(html)
            click.echo(f"Wrote the card to {path}.", err=True)

    @card.command(help="Write a card to a temporary HTML file and print its path.")
    @click.argument("pathspec", metavar=card_spec)
    @filters
    def view(
        pathspec: str, card_id: str | None, card_type: str | None, card_hash: str | None,
        follow_resumed: bool,
    ) -> None:  # fmt: skip
        from stepwell import cards

        with cli_errors():
            cards.view_card(task_of(pathspec), id=card_id, type=card_type, hash=card_hash)

    return card


def _write_json(value: object, to_file: str | None) -> None:
    if to_file is None:
        click.echo(json.dumps(value, indent=4))
        return
    with open(to_file, "w", encoding="utf-8") as handle:
        json.dump(value, handle)
    click.echo(f"Wrote the card list to {to_file}.", err=True)
