"""The ``stepwell`` console script."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import click

from stepwell.cli import _server
from stepwell.cli._db import db
from stepwell.cli._errors import cli_errors
from stepwell.cli._options import metadata_option, use_metadata

_PASS_THROUGH = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}


def _exec_flow_file(path: str, command: str, args: list[str]) -> None:
    """Run a flow file as ``__main__`` with ``command``, as ``python flow.py command`` would."""
    from stepwell.cli._flowcli import run_flow_cli
    from stepwell.flow import flows_in_module

    file = Path(path).resolve()
    module = types.ModuleType("__main__")
    module.__file__ = str(file)
    sys.modules["__main__"] = module
    sys.argv = [str(file), command, *args]
    sys.path.insert(0, str(file.parent))
    code = compile(file.read_bytes(), str(file), "exec")
    exec(code, module.__dict__)  # a main block calling Flow() exits from inside
    flows = flows_in_module(module)
    if len(flows) != 1:
        names = ", ".join(f.__name__ for f in flows) or "none"
        raise click.UsageError(
            f"{path} must define exactly one FlowSpec subclass (found: {names})."
        )
    run_flow_cli(flows[0], [command, *args])


def _flow_command(name: str, help_text: str, hidden: bool = False) -> click.Command:
    # The flow's own options (and --help) come after FLOW_FILE and belong to the flow's CLI.
    @click.command(
        name, help=help_text, context_settings=_PASS_THROUGH, add_help_option=False, hidden=hidden
    )
    @click.argument("flow_file", metavar="FLOW_FILE")
    @click.pass_context
    def command(ctx: click.Context, flow_file: str) -> None:
        if flow_file in ("--help", "-h"):
            click.echo(ctx.get_help())
            return
        if not Path(flow_file).is_file():
            raise click.BadParameter(f"{flow_file!r} is not a file.", param_hint="FLOW_FILE")
        with cli_errors():
            _exec_flow_file(flow_file, name, list(ctx.args))

    return command


@click.group(help="stepwell: write a flow in plain Python; run, version and deploy it.")
@click.version_option(package_name="stepwell")
@metadata_option
def main(metadata: str | None) -> None:
    if metadata is not None:
        use_metadata(metadata)


for _name, _help in (
    ("run", "Run a flow file: stepwell run flow.py [--param value ...]"),
    ("check", "Validate a flow file's graph."),
    ("output-dot", "Print a flow file's graph in Graphviz DOT."),
):
    main.add_command(_flow_command(_name, _help))


@main.command(help="List runs, newest first for each flow: of FLOW, or of every flow.")
@click.argument("flow", required=False)
@click.option("--limit", type=click.IntRange(min=1), default=20, help="At most this many per flow.")
def runs(flow: str | None, limit: int) -> None:
    from stepwell.cli import _inspect

    with cli_errors():
        _inspect.runs_table(flow, limit)


@main.command(
    help="Show a flow file's steps and parameters (stepwell show flow.py), or describe a "
    "past flow, run, step or task (stepwell show Flow[/run[/step[/task]]])."
)
@click.argument("target")
def show(target: str) -> None:
    from stepwell.cli import _inspect

    with cli_errors():
        if Path(target).is_file():
            _exec_flow_file(target, "show", [])
        for line in _inspect.describe(target):
            click.echo(line)


@main.command(help="Print the logs of Flow/run/step[/task].")
@click.argument("pathspec")
@click.option("--stdout", "stream", flag_value="stdout", help="Only standard output.")
@click.option("--stderr", "stream", flag_value="stderr", help="Only standard error.")
@click.option("--attempt", type=click.IntRange(min=0), default=None, help="This attempt.")
@click.option("--follow", is_flag=True, help="Keep printing while the task runs.")
def logs(pathspec: str, stream: str | None, attempt: int | None, follow: bool) -> None:
    from stepwell.cli import _inspect

    with cli_errors():
        _inspect.show_logs(pathspec, stream, attempt, follow)


@main.command(help="Serve the web UI for the runs in the store (127.0.0.1 by default).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="Port to bind (0: any free port).",
)
@click.option(
    "--token",
    default=None,
    help="Required from every request (generated when binding beyond loopback).",
)
def ui(host: str, port: int, token: str | None) -> None:
    from stepwell.ui import serve

    with cli_errors():
        try:
            serve(host=host, port=port, token=token)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None


main.add_command(db)

main.add_command(_server.server)  # stepwell server [token create|list|revoke]

# The subprocess executor's entry: one task, whether or not the file has a __main__ block.
main.add_command(_flow_command("_task", "Run one task (internal).", hidden=True))
