"""``python flow.py <command>``: the flow's own command line."""

from __future__ import annotations

import inspect
import json
import sys
from typing import Any

import click

from stepwell.cli._errors import cli_errors
from stepwell.cli._options import metadata_option, use_metadata
from stepwell.config import load_settings
from stepwell.exceptions import ParameterError, StepwellError
from stepwell.flow import FlowSpec


def _flow_file(flow_cls: type[FlowSpec]) -> str:
    main = sys.modules.get("__main__")
    if flow_cls.__module__ == "__main__" and getattr(main, "__file__", None):
        return str(main.__file__)  # type: ignore[union-attr]
    return inspect.getfile(flow_cls)


def _parameter_options(flow_cls: type[FlowSpec]) -> list[click.Option]:
    options = []
    for attr, param in flow_cls._sw_parameters().items():
        described = param.describe()
        default = described["default"]
        help_text = param.help or ""
        extra = f"[{param.type_label}" + (
            f"; default: {default!r}]" if default is not None else "]"
        )
        if param.required:
            extra += " (required)"
        options.append(
            click.Option(
                [f"--{param.name}", attr] if param.name != attr else [f"--{param.name}"],
                default=None,
                help=f"{help_text} {extra}".strip(),
                metavar=param.type_label.upper().replace(" ", "_"),
            )
        )
    return options


def _json_config(name: str, text: str) -> Any:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParameterError(
            f"--config-value {name}: not valid JSON ({exc.msg} at character {exc.pos})."
        ) from None
    if not isinstance(value, dict):
        raise ParameterError(f"--config-value {name}: a config must be a JSON object.")
    return value


def build_cli(flow_cls: type[FlowSpec]) -> click.Group:
    """The click group of one flow: run, check, show, output-dot."""

    @click.group(help=(flow_cls.__doc__ or f"The {flow_cls.__name__} flow.").strip())
    @click.option("--quiet", is_flag=True, help="Print nothing but failures.")
    @click.option(
        "--no-pylint",
        "--pylint",
        "pylint",
        is_flag=True,
        hidden=True,
        help="Accepted for Metaflow compatibility; stepwell's linter always runs.",
    )
    @click.option(
        "--with",
        "with_all",
        multiple=True,
        metavar="DECORATOR[:k=v,...]",
        help="Add a step decorator to every step (repeatable).",
    )
    @click.option(
        "--config",
        "config_files",
        multiple=True,
        nargs=2,
        metavar="NAME FILE",
        help="Read Config NAME from FILE (JSON, TOML or YAML by its parser/suffix).",
    )
    @click.option(
        "--config-value",
        "config_values",
        multiple=True,
        nargs=2,
        metavar="NAME JSON",
        help="Give Config NAME this JSON value.",
    )
    @click.option("--branch", default=None, help="@project: run on branch test.<BRANCH>.")
    @click.option("--production", is_flag=True, help="@project: run on the production branch.")
    @click.option(
        "--datastore",
        type=click.Choice(["local", "s3"]),
        default=None,
        help="Where artifacts, logs, cards and code go (default: STEPWELL_DATASTORE or local).",
    )
    @click.option(
        "--datastore-root",
        default=None,
        metavar="URL",
        help="s3://BUCKET/PREFIX for the S3 datastore, or a directory for the local one.",
    )
    @metadata_option
    @click.pass_context
    def cli(ctx: click.Context, quiet: bool, pylint: bool, with_all: tuple[str, ...],
            config_files: tuple[tuple[str, str], ...], branch: str | None, production: bool,
            config_values: tuple[tuple[str, str], ...], datastore: str | None,
            datastore_root: str | None, metadata: str | None) -> None:  # fmt: skip
        if metadata is not None:
            use_metadata(metadata)
        configs: dict[str, Any] = dict(config_files)
        for name, text in config_values:
            with cli_errors():
                configs[name] = _json_config(name, text)
        ctx.obj = {"quiet": quiet, "with": with_all, "configs": configs, "branch": branch,
                   "production": production, "datastore": datastore,
                   "datastore_root": datastore_root}  # fmt: skip

    @cli.command(help="Validate the flow's graph; exit non-zero on any problem.")
    def check() -> None:
        from stepwell.graph import check_flow

        with cli_errors():
            graph = check_flow(flow_cls)
            click.echo(f"{flow_cls.__name__}: {len(list(graph))} steps, the flow is valid.")

    @cli.command(help="Show the steps, their transitions and the parameters.")
    def show() -> None:
        from stepwell.graph import build_graph, render_text

        with cli_errors():
            click.echo(render_text(build_graph(flow_cls), flow_cls))

    @cli.command(help="Print the artifacts of a task (RUN/STEP/TASK) or of a step's tasks.")
    @click.argument("pathspec")
    @click.option("--include", default="", help="Only these artifacts (comma-separated).")
    @click.option("--file", "to_file", default=None, help="Pickle the artifacts to this file.")
    def dump(pathspec: str, include: str, to_file: str | None) -> None:
        from stepwell.cli import _inspect

        with cli_errors():
            names = [n.strip() for n in include.split(",") if n.strip()]
            _inspect.dump(f"{flow_cls.__name__}/{pathspec}", names, to_file)

    @cli.command(help="Print the logs of a task (RUN/STEP/TASK) or of a step's tasks.")
    @click.argument("pathspec")
    @click.option("--stdout", "stream", flag_value="stdout", help="Only standard output.")
    @click.option("--stderr", "stream", flag_value="stderr", help="Only standard error.")
    @click.option("--attempt", type=click.IntRange(min=0), default=None, help="This attempt.")
    @click.option("--follow", is_flag=True, help="Keep printing while the task runs.")
    def logs(pathspec: str, stream: str | None, attempt: int | None, follow: bool) -> None:
        from stepwell.cli import _inspect

        with cli_errors():
            _inspect.show_logs(f"{flow_cls.__name__}/{pathspec}", stream, attempt, follow)

    @cli.command(help="Add, remove, replace or list the tags of a run.")
    @click.argument("action", type=click.Choice(["add", "remove", "replace", "list"]))
    @click.argument("tags", nargs=-1)
    @click.option("--run-id", default=None, help="The run (default: your latest).")
    def tag(action: str, tags: tuple[str, ...], run_id: str | None) -> None:
        from stepwell.cli import _inspect

        with cli_errors():
            _inspect.change_tags(flow_cls.__name__, run_id or _latest(flow_cls), action, tags)

    @cli.command(help="List, print or open the cards of a task: card list|get|view RUN/STEP/TASK.")
    @click.argument("action", type=click.Choice(["list", "get", "view"]))
    @click.argument("pathspec")
    @click.option("--id", "card_id", default=None, help="The card with this id.")
    @click.option("--type", "card_type", default=None, help="The card of this type.")
    def card(action: str, pathspec: str, card_id: str | None, card_type: str | None) -> None:
        from stepwell import cards

        with cli_errors():
            full = f"{flow_cls.__name__}/{pathspec}"
            if action == "list":
                for line in cards.list_cards(full):
                    click.echo(line)
            elif action == "get":
                click.echo(cards.card_html(full, id=card_id, type=card_type))
            else:
                cards.view_card(full, id=card_id, type=card_type)

    @cli.command("output-dot", help="Print the flow's graph in Graphviz DOT.")
    def output_dot() -> None:
        from stepwell.graph import build_graph, render_dot

        with cli_errors():
            click.echo(render_dot(build_graph(flow_cls)))

    @click.pass_context
    def run(ctx: click.Context, **options: Any) -> None:
        params = {name: options.pop(name) for name in list(options) if name in parameter_names}
        with cli_errors():
            _check_config_names(flow_cls, ctx.obj["configs"])
        raw = {**ctx.obj["configs"], **{k: v for k, v in params.items() if v is not None}}
        _execute(ctx, flow_cls, options, raw_parameters=raw)

    @click.argument("step_name", metavar="[STEP]", required=False)
    @click.option(
        "--origin-run-id",
        default=None,
        help="The run to resume (default: your latest run of this flow).",
    )
    @click.option(
        "--run-id",
        "new_run_id",
        default=None,
        help="The new run's id (a positive whole number not in use).",
    )
    @click.pass_context
    def resume(
        ctx: click.Context,
        step_name: str | None,
        origin_run_id: str | None,
        new_run_id: str | None,
        **options: Any,
    ) -> None:
        from stepwell.runtime import ResumeRequest

        request = ResumeRequest(step_name, origin_run_id, new_run_id)
        _execute(ctx, flow_cls, options, resume=request)

    parameter_names = {p.human_readable_name for p in _parameter_options(flow_cls)}
    parameter_names = {name.lstrip("-").replace("-", "_") for name in parameter_names}
    parameter_names |= set(flow_cls._sw_parameters())
    run_command = click.command(help="Run the flow locally.")(_with_run_options(run))
    run_command.params.extend(_parameter_options(flow_cls))
    cli.add_command(run_command)
    cli.add_command(
        click.command(
            help="Run the flow again, reusing every task that succeeded in an earlier run "
            "(STEP: run that step and everything after it again)."
        )(_with_run_options(resume))
    )
    return cli


def _check_config_names(flow_cls: type[FlowSpec], configs: dict[str, Any]) -> None:
    known = {p.name for p in flow_cls._sw_parameters().values() if p.kind == "config"}
    for name in configs:
        if name not in known:
            raise ParameterError(
                f"--config/--config-value {name}: {flow_cls.__name__} has no Config named "
                f"{name!r}; its Configs: {', '.join(sorted(known)) or 'none'}.",
                parameter=name,
            )


def _latest(flow_cls: type[FlowSpec]) -> str:
    from stepwell.client import Flow

    run = Flow(flow_cls.__name__).latest_run
    if run is None:
        raise StepwellError(f"{flow_cls.__name__} has no run in your namespace; pass --run-id.")
    return str(run.id)


def _with_run_options(command: Any) -> Any:
    """The options ``run`` and ``resume`` share."""
    for option in reversed(_RUN_OPTIONS):
        command = option(command)
    return command


_RUN_OPTIONS = [
    click.option("--tag", "tags", multiple=True, help="Add a tag to the run (repeatable)."),
    click.option("--max-workers", type=click.IntRange(min=1), default=None,
                 help="Tasks run at once (default: the number of CPUs)."),
    click.option("--max-num-splits", type=click.IntRange(min=1), default=None,
                 help="Largest foreach allowed (default: 100,000)."),
    click.option("--run-id-file", type=click.Path(dir_okay=False), default=None,
                 help="Write the run id to this file as soon as it is known."),
    click.option("--executor", type=click.Choice(["fork", "subprocess"]), default=None,
                 help="How tasks run locally (default: fork)."),
    click.option("--namespace", default=None, help="The namespace of the run."),
    click.option("--quiet", "quiet_run", is_flag=True, help="Print nothing but failures."),
    click.option("--with", "with_run", multiple=True, metavar="DECORATOR[:k=v,...]",
                 help="Add a step decorator to every step, e.g. --with retry:times=2."),
]  # fmt: skip


def _execute(
    ctx: click.Context,
    flow_cls: type[FlowSpec],
    options: dict[str, Any],
    *,
    raw_parameters: dict[str, Any] | None = None,
    resume: Any = None,
) -> None:
    from stepwell.runtime import start_run

    with cli_errors():
        settings = load_settings(
            datastore=ctx.obj["datastore"], datastore_root=ctx.obj["datastore_root"]
        )
        outcome = start_run(
            flow_cls,
            settings,
            flow_file=_flow_file(flow_cls),
            raw_parameters=raw_parameters,
            tags=options["tags"],
            executor=options["executor"],
            max_workers=options["max_workers"],
            max_num_splits=options["max_num_splits"],
            namespace=options["namespace"],
            run_id_file=options["run_id_file"],
            quiet=ctx.obj["quiet"] or options["quiet_run"],
            with_decorators=(*ctx.obj["with"], *options["with_run"]),
            resume=resume,
            branch=ctx.obj["branch"],
            production=ctx.obj["production"],
        )
    sys.exit(0 if outcome.ok else 1)


def run_flow_cli(flow_cls: type[FlowSpec], args: list[str] | None = None) -> None:
    """Entry point used by ``FlowSpec.__init__`` in the flow file's ``__main__``."""
    argv = sys.argv[1:] if args is None else args
    if argv[:1] == ["_task"]:  # a task of the subprocess executor
        from stepwell.runtime import subprocess_main

        subprocess_main(flow_cls)
    build_cli(flow_cls).main(args=argv, prog_name=sys.argv[0], standalone_mode=True)
