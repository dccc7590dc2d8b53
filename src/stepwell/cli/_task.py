"""The one-task command (``python flow.py task``, ``stepwell task``) and ``stepwell finish-run``.

What an orchestrator runs for each node of a deployed flow; see
``stepwell.runtime._onetask`` for what it does and docs/production.md for
the contract. ``stepwell task STEP --flow FILE [--package KEY]`` unpacks the
code package (once per key) and runs ``FILE``'s own ``task`` command there.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from stepwell.cli._errors import cli_errors
from stepwell.config import load_settings
from stepwell.exceptions import ConfigError
from stepwell.flow import FlowSpec

_TASK_HELP = (
    "Run exactly one task of a run, here, and record it (what an orchestrator runs for each "
    "node of a deployed flow). The last line on stdout is the result as JSON."
)


def _task_options(command: Any) -> Any:
    options = [
        click.option("--run-key", default=None, metavar="KEY",
                     help="The orchestrator's id of the run; the start task creates the run."),
        click.option("--run-id", default=None, help="The run, by its stepwell id."),
        click.option("--input", "inputs", multiple=True, metavar="STEP/TASK_ID",
                     help="An input task (a join: each input of the split it closes)."),
        click.option("--inputs-json", default=None, metavar="JSON",
                     help="Input tasks as a JSON list of pathspecs or of results with one."),
        click.option("--inputs-of-split", default=None, metavar="STEP/TASK_ID",
                     help="A join: its inputs are every task closing this task's split "
                     "(found in the run: one argument however wide the foreach)."),
        click.option("--split-index", type=click.IntRange(min=0), default=None,
                     help="This task is branch N of its input's foreach."),
        click.option("--attempt", type=click.IntRange(min=0), default=None,
                     help="Run only this attempt (the orchestrator retries); default: all here."),
        click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
                     help="A parameter of the run (start task only)."),
        click.option("--tag", "tags", multiple=True, help="A tag of the run (start task only)."),
        click.option("--runtime", default="task", show_default=True,
                     help="Recorded as the run's runtime:NAME system tag."),
        click.option("--package", default=None, metavar="KEY",
                     help="The code package this task runs from (recorded with the run)."),
        click.option("--output-dir", type=click.Path(file_okay=False), default=None,
                     help="Write the result here: result.json and one file per field."),
        click.option("--trigger-event", "trigger_events", multiple=True, metavar="JSON",
                     help='An event that started the run, as posted to the events webhook: '
                     '{"name": ..., "payload": {...}} (empty: none).'),
        click.option("--trigger", "trigger_json", default=None, metavar="JSON",
                     help='What started the run (current.trigger): {"events": [{"name", "id", '
                     '"type", "timestamp", "payload"}]}; the same for every task.'),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


def task_command(flow_cls: type[FlowSpec], flow_file: str) -> click.Command:
    """``python flow.py task STEP ...`` for ``flow_cls``."""

    @click.command("task", help=_TASK_HELP)
    @click.argument("step")
    @_task_options
    @click.pass_context
    def task(ctx: click.Context, step: str, **options: Any) -> None:
        from stepwell.runtime._onetask import TaskRequest, run_one_task
        from stepwell.runtime._placement import parse_inputs_json
        from stepwell.runtime._triggers import trigger_from

        with cli_errors():
            request = TaskRequest(
                step=step,
                run_key=options["run_key"],
                run_id=options["run_id"],
                inputs=(*options["inputs"], *parse_inputs_json(options["inputs_json"])),
                inputs_of_split=options["inputs_of_split"],
                split_index=options["split_index"],
                attempt=options["attempt"],
                raw_parameters=dict(_param(text) for text in options["params"]),
                tags=tuple(options["tags"]),
                runtime=options["runtime"],
                code_key=options["package"],
                output_dir=options["output_dir"],
                trigger=trigger_from(options["trigger_json"], options["trigger_events"]),
            )
            settings = load_settings(
                datastore=ctx.obj["datastore"], datastore_root=ctx.obj["datastore_root"]
            )
            summary = run_one_task(
                flow_cls, settings, request, flow_file=flow_file,
                branch=ctx.obj["branch"], production=ctx.obj["production"],
            )  # fmt: skip
        click.echo(summary.as_json())
        sys.exit(0 if summary.ok else 1)

    return task


def _param(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise ConfigError(f"--param {text!r}: give NAME=VALUE, e.g. --param alpha=0.5.")
    return name, value


#: ``--flow`` and ``--package`` are this command's; every other word goes to the flow's ``task``.
_PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}


@click.command(
    "task",
    context_settings=_PASS_THROUGH,
    help=_TASK_HELP + " STEP's options are those of `python FLOW_FILE task --help`.",
)
@click.argument("step")
@click.option("--flow", "flow_file", required=True, metavar="FLOW_FILE",
              help="The flow file (inside the code package, with --package).")  # fmt: skip
@click.option("--package", default=None, metavar="KEY",
              help="Run FLOW_FILE from this code package in the datastore.")  # fmt: skip
@click.pass_context
def task(ctx: click.Context, step: str, flow_file: str, package: str | None) -> None:
    from stepwell.cli._main import _exec_flow_file
    from stepwell.cli._toplevel import top_level_argv

    with cli_errors():
        if package is not None:
            folder = _unpacked(package)
            os.chdir(folder)
            flow_file = str(folder / flow_file)
            extra = ["--package", package]
        else:
            extra = []
        if not os.path.isfile(flow_file):
            raise ConfigError(f"task: flow file {flow_file!r} does not exist.")
        outer = ctx.find_root().obj or {}
        _exec_flow_file(flow_file, [*top_level_argv(outer, {}), "task", step, *ctx.args, *extra])


def _unpacked(key: str) -> Any:
    from stepwell.runtime._package import package_folder, unpack_package
    from stepwell.store import open_content_store

    settings = load_settings()
    store = open_content_store(settings.datastore_url, endpoint_url=settings.s3_endpoint_url)
    folder = package_folder(settings.home, key)
    return unpack_package(store, key, folder, context="the code package of a deployed flow")


@click.command("finish-run", help="End the run of an orchestrator's run key (its exit handler).")
@click.argument("flow")
@click.option("--run-key", required=True, metavar="KEY", help="The orchestrator's id of the run.")
@click.option(
    "--status",
    required=True,
    help="How the orchestrator says the run ended (Succeeded, Failed, Error, ...).",
)
def finish_run(flow: str, run_key: str, status: str) -> None:
    from stepwell.metadata import open_configured_metadata

    with cli_errors():
        metadata = open_configured_metadata(load_settings())
        try:
            run_id = metadata.run_id_of_key(flow, run_key)
            if run_id is None:
                click.echo(f"No run of {flow} has run key {run_key!r}: nothing to end.", err=True)
                return
            run = metadata.get_run(flow, run_id)
            if run.status != "running":
                click.echo(f"Run {run.pathspec} already ended: {run.status}.", err=True)
                return
            ok = status.strip().lower() in ("succeeded", "success")
            error = None if ok else f"the orchestrator ended the run: {status}"
            metadata.finish_run(flow, run_id, "succeeded" if ok else "failed", error=error)
            click.echo(f"Run {run.pathspec} ended: {'succeeded' if ok else 'failed'}.", err=True)
        finally:
            metadata.close()
