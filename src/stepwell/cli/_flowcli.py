"""``python flow.py <command>``: the flow's own command line."""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path
from typing import Any

import click

from stepwell.cli._airflow import airflow_group
from stepwell.cli._argo import argo_workflows_group
from stepwell.cli._errors import cli_errors
from stepwell.cli._readcmds import add_read_commands
from stepwell.cli._task import task_command
from stepwell.cli._toplevel import apply_top_level, package_suffixes, top_level_options
from stepwell.config import load_settings
from stepwell.exceptions import ParameterError
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
        names = [f"--{param.name}", attr] if param.name != attr else [f"--{param.name}"]
        # click keywords the flow gave its Parameter that only change how the option is
        # shown or read; None leaves the value to the Parameter (its default, STEPWELL_RUN_*)
        kwargs = {k: v for k, v in param.click_options.items() if k in _FORWARDED_CLICK_KEYWORDS}
        kwargs.setdefault("metavar", param.type_label.upper().replace(" ", "_"))
        if param.is_flag:
            names = [f"{names[0]}/--no-{param.name}", *names[1:]]
            kwargs.pop("metavar")
        options.append(
            click.Option(
                names,
                default=None,
                is_flag=param.is_flag or None,
                help=f"{help_text} {extra}".strip(),
                **kwargs,
            )
        )
    return options


#: Parameter(...) click keywords honoured on the flow's command line.
_FORWARDED_CLICK_KEYWORDS = frozenset({"hidden", "metavar", "envvar", "show_envvar"})


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
    @top_level_options
    @click.pass_context
    def cli(ctx: click.Context, **values: Any) -> None:
        apply_top_level(values)
        configs: dict[str, Any] = dict(values["config_files"])
        for name, text in values["config_values"]:
            with cli_errors():
                configs[name] = _json_config(name, text)
        ctx.obj = {
            **values,
            "with": values["with_all"],
            "configs": configs,
            "package_suffixes": package_suffixes(values["package_suffixes"]),
        }

    @cli.command(
        help="Validate the flow's graph, and its @schedule / @trigger / @trigger_on_finish; "
        "exit non-zero on any problem."
    )
    def check() -> None:
        from stepwell.graph import check_flow
        from stepwell.scheduler._service import check_deployment

        with cli_errors():
            graph = check_flow(flow_cls)
            check_deployment(flow_cls, load_settings())
            click.echo(f"{flow_cls.__name__}: {len(list(graph))} steps, the flow is valid.")

    @cli.command(help="Show the steps, their transitions and the parameters.")
    def show() -> None:
        from stepwell.graph import build_graph, render_text

        with cli_errors():
            click.echo(render_text(build_graph(flow_cls), flow_cls))

    add_read_commands(cli, flow_cls.__name__)

    @cli.command(
        help="Deploy the flow to the local scheduler: its code package, schedule "
        "and triggers (a new version each time)."
    )
    @click.pass_context
    def deploy(ctx: click.Context) -> None:
        from stepwell.scheduler._service import deploy_flow

        with cli_errors():
            settings = load_settings(
                datastore=ctx.obj["datastore"], datastore_root=ctx.obj["datastore_root"]
            )
            record = deploy_flow(
                flow_cls,
                settings,
                flow_file=_flow_file(flow_cls),
                branch=ctx.obj["branch"],
                production=ctx.obj["production"],
            )
        spec = record.spec
        cron = spec.get("schedule")
        when = [f"cron '{cron['cron']}' ({cron['timezone']})"] if cron else []
        when += [f"event {e['name']}" for e in spec["events"]]
        when += [f"after {a['flow']}" for a in spec["after_flows"]]
        click.echo(
            f"Deployed {record.name} version {record.version} (code package "
            f"{spec['code_key'][:12]}): {', '.join(when) or 'on demand only'}.\n"
            "`stepwell scheduler` starts its runs; `stepwell deployments` lists them."
        )

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
    cli.add_command(_spin_command(flow_cls))
    cli.add_command(argo_workflows_group(flow_cls, _flow_file(flow_cls)))  # argo-workflows
    cli.add_command(airflow_group(flow_cls, _flow_file(flow_cls)))  # airflow create
    cli.add_command(task_command(flow_cls, _flow_file(flow_cls)))  # one task (deployments)
    return cli


def _spin_command(flow_cls: type[FlowSpec]) -> click.Command:
    @click.command(
        "spin",
        help="Run one step again, in this process, with the inputs it had in an earlier run: "
        "TARGET is STEP (your latest run), RUN/STEP or RUN/STEP/TASK. Records nothing unless "
        "--persist.",
    )
    @click.argument("target", metavar="TARGET")
    @click.option("--persist/--no-persist", default=False, show_default=True,
                  help="Record the task and its artifacts in ./.stepwell_spin "
                  "(read them with stepwell.inspect_spin('.')).")  # fmt: skip
    @click.option(
        "--artifacts-module",
        default=None,
        metavar="FILE.py|MODULE",
        help="A module whose ARTIFACTS dict replaces input artifacts by name.",
    )
    @click.option(
        "--skip-decorators",
        is_flag=True,
        help="Run the step without its decorators (@card, @environment, ...).",
    )
    @click.option("--run-id-file", type=click.Path(dir_okay=False), default=None, hidden=True)
    @click.option(
        "--task-pathspec-file",
        type=click.Path(dir_okay=False),
        default=None,
        help="Write the spun task's pathspec to this file.",
    )
    @click.option("--quiet", "quiet_run", is_flag=True, help="Print nothing but failures.")
    @click.pass_context
    def spin(
        ctx: click.Context,
        target: str,
        persist: bool,
        artifacts_module: str | None,
        skip_decorators: bool,
        run_id_file: str | None,
        task_pathspec_file: str | None,
        quiet_run: bool,
    ) -> None:
        from stepwell.runtime import SpinRequest, spin_task

        request = SpinRequest(target, persist, artifacts_module, skip_decorators)
        with cli_errors():
            settings = load_settings(
                datastore=ctx.obj["datastore"], datastore_root=ctx.obj["datastore_root"]
            )
            outcome = spin_task(flow_cls, settings, request, flow_file=_flow_file(flow_cls))
        result = outcome.result
        pathspec = outcome.pathspec or outcome.origin
        for path, text in ((run_id_file, pathspec.split("/")[1]), (task_pathspec_file, pathspec)):
            if path:
                Path(path).write_text(text)
        seconds = result.finished_at - result.started_at
        where = f"; recorded as {outcome.pathspec} in {outcome.spin_home}" if persist else ""
        if result.ok and not (ctx.obj["quiet"] or quiet_run):
            click.echo(f"Spun {outcome.origin}: done ({seconds:.2f}s){where}.", err=True)
        if not result.ok:
            click.echo(
                f"Spun {outcome.origin}: failed{where}.\n"
                f"{result.traceback or f'{result.exception_type}: {result.exception}'}",
                err=True,
            )
        sys.exit(0 if result.ok else 1)

    return spin


def _check_config_names(flow_cls: type[FlowSpec], configs: dict[str, Any]) -> None:
    known = {p.name for p in flow_cls._sw_parameters().values() if p.kind == "config"}
    for name in configs:
        if name not in known:
            raise ParameterError(
                f"--config/--config-value {name}: {flow_cls.__name__} has no Config named "
                f"{name!r}; its Configs: {', '.join(sorted(known)) or 'none'}.",
                parameter=name,
            )


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
    click.option("--executor", type=click.Choice(["fork", "subprocess", "ray"]), default=None,
                 help="Where tasks run: fork (default) or subprocess here, or ray: a Ray "
                      "cluster."),
    click.option("--ray-address", default=None, metavar="HOST:PORT",
                 help="The Ray cluster of --executor ray (default: RAY_ADDRESS; unset: a "
                      "local Ray for the run)."),
    click.option("--namespace", default=None, help="The namespace of the run."),
    click.option("--quiet", "quiet_run", is_flag=True, help="Print nothing but failures."),
    click.option("--with", "with_run", multiple=True, metavar="DECORATOR[:k=v,...]",
                 help="Add a step decorator to every step, e.g. --with retry:times=2."),
    click.option("--no-cache", is_flag=True, help="Run @cache steps, reusing no earlier task."),
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
            datastore=ctx.obj["datastore"],
            datastore_root=ctx.obj["datastore_root"],
            environment=ctx.obj["environment"],
            ray_address=options["ray_address"],
        )
    with cli_errors():
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
            use_cache=not options["no_cache"],
        )
    sys.exit(0 if outcome.ok else 1)


def run_flow_cli(flow_cls: type[FlowSpec], args: list[str] | None = None) -> None:
    """Entry point used by ``FlowSpec.__init__`` in the flow file's ``__main__``."""
    argv = sys.argv[1:] if args is None else args
    if argv[:1] == ["_task"]:  # a task of the subprocess executor
        from stepwell.runtime import subprocess_main

        subprocess_main(flow_cls)
    build_cli(flow_cls).main(args=argv, prog_name=sys.argv[0], standalone_mode=True)
