"""The ``stepwell`` console script."""

from __future__ import annotations

import sys
import traceback
import types
from pathlib import Path
from typing import Any

import click

from stepwell.cli import _server
from stepwell.cli._db import db
from stepwell.cli._environments import environments
from stepwell.cli._errors import cli_errors
from stepwell.cli._gc import gc
from stepwell.cli._readcmds import add_read_commands
from stepwell.cli._scheduling import deployments, event, scheduler, undeploy
from stepwell.cli._settings_cmd import settings
from stepwell.cli._task import finish_run, task
from stepwell.cli._toplevel import apply_top_level, top_level_argv, top_level_options
from stepwell.cli._verify import verify
from stepwell.exceptions import StepwellError

#: Options before FLOW_FILE are top-level ones; everything after it goes to the flow's command.
_PASS_THROUGH = {"allow_interspersed_args": False, "allow_extra_args": True}


def _exec_flow_file(path: str, argv: list[str]) -> None:
    """Run a flow file as ``__main__`` with ``argv``, as ``python flow.py ARGV`` would."""
    from stepwell.cli._flowcli import run_flow_cli
    from stepwell.flow import flows_in_module

    file = Path(path).resolve()
    module = types.ModuleType("__main__")
    module.__file__ = str(file)
    sys.modules["__main__"] = module
    sys.argv = [str(file), *argv]
    sys.path.insert(0, str(file.parent))
    try:
        code = compile(file.read_bytes(), str(file), "exec")
        exec(code, module.__dict__)  # a main block calling Flow() exits from inside
    except SyntaxError as exc:
        raise FlowFileError(
            f"{exc.msg}.\n{(exc.text or '').rstrip()}", location=f"{exc.filename}:{exc.lineno}"
        ) from None
    except Exception as exc:
        if not _raised_by_user_code(exc):
            raise
        from stepwell.runtime._task import format_user_traceback

        raise FlowFileError(
            f"importing it raised {type(exc).__name__}: {exc}\n"
            f"{format_user_traceback(exc).rstrip()}",
            location=_user_location(exc, file),
        ) from None
    flows = flows_in_module(module)
    if len(flows) != 1:
        names = ", ".join(f.__name__ for f in flows) or "none"
        raise click.UsageError(
            f"{path} must define exactly one FlowSpec subclass (found: {names})."
        )
    run_flow_cli(flows[0], argv)


class FlowFileError(StepwellError):
    headline = "The flow file cannot be loaded"


def _raised_by_user_code(exc: BaseException) -> bool:
    """True unless the innermost frame outside Python's import machinery is stepwell's."""
    here = Path(__file__)
    package = (str(here.resolve().parents[1]), str(here.parents[1]))  # as imported, or linked
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith("<")]
    return not frames or not frames[-1].filename.startswith(package)


def _user_location(exc: BaseException, file: Path) -> str | None:
    """``file:line`` of the innermost frame in the flow file (where its import failed)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(file)]
    return f"{file}:{frames[-1].lineno}" if frames else None


def _flow_argv(ctx: click.Context, name: str, values: dict[str, Any]) -> list[str]:
    """``python flow.py`` words: the top-level options (of ``stepwell`` and of the command)."""
    if name == "_task":  # the subprocess executor's own words, passed as they are
        return [name, *ctx.args]
    outer = ctx.find_root().obj or {}
    return [*top_level_argv(outer, values), name, *ctx.args]


def _flow_command(name: str, help_text: str, hidden: bool = False) -> click.Command:
    @click.command(name, help=help_text, context_settings=_PASS_THROUGH, hidden=hidden)
    @top_level_options
    @click.argument("flow_file", metavar="FLOW_FILE")
    @click.pass_context
    def command(ctx: click.Context, flow_file: str, **values: Any) -> None:
        if not Path(flow_file).is_file():
            raise click.BadParameter(f"{flow_file!r} is not a file.", param_hint="FLOW_FILE")
        with cli_errors():
            _exec_flow_file(flow_file, _flow_argv(ctx, name, values))

    return command


@click.group(
    help="stepwell: write a flow in plain Python; run, version and deploy it.\n\n"
    "The options below are the top-level options of a flow's command line; they apply to "
    "every command (stepwell --metadata URL runs), and go on to FLOW_FILE's command line "
    "(stepwell --datastore s3 run flow.py is python flow.py --datastore s3 run)."
)
@click.version_option(package_name="stepwell")
@top_level_options
@click.pass_context
def main(ctx: click.Context, **values: Any) -> None:
    apply_top_level(values)
    ctx.obj = values


_FILE_USAGE = " [TOP-LEVEL OPTIONS] FLOW_FILE [OPTIONS]: as python FLOW_FILE [TOP-LEVEL OPTIONS] "
for _name, _help in (
    ("run", "Run a flow file: stepwell run" + _FILE_USAGE + "run [OPTIONS]."),
    ("resume", "Resume a run of a flow file: stepwell resume" + _FILE_USAGE + "resume [OPTIONS]."),
    ("spin", "Run one step again with its inputs: stepwell spin" + _FILE_USAGE + "spin TARGET."),
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
            _exec_flow_file(target, [*top_level_argv(click.get_current_context().obj), "show"])
        for line in _inspect.describe(target):
            click.echo(line)


add_read_commands(main, None)  # dump, logs, tag, card by pathspec


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
main.add_command(settings)
main.add_command(_server.server)  # stepwell server [token create|list|revoke]
main.add_command(verify)  # stepwell verify [--repair] [FLOW[/RUN]]
main.add_command(gc)  # stepwell gc --keep-last N --older-than DAYS
main.add_command(environments)  # stepwell environments list | prune
for _command in (deployments, undeploy, scheduler, event):  # the local scheduler
    main.add_command(_command)
main.add_command(task)  # stepwell task STEP --flow FILE [--package KEY]: one task (deployments)
main.add_command(finish_run)  # stepwell finish-run FLOW --run-key KEY --status S (exit handlers)

# The subprocess executor's entry: one task, whether or not the file has a __main__ block.
main.add_command(_flow_command("_task", "Run one task (internal).", hidden=True))
