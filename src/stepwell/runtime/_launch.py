"""``start_run``: from a flow class and command-line values to a finished local run."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stepwell.config import Settings
from stepwell.exceptions import ConfigError
from stepwell.flow import FlowSpec, resolve_decorator
from stepwell.runtime._params import resolve_parameters
from stepwell.runtime._report import Reporter, make_reporter
from stepwell.runtime._run import LocalRun, RunOptions, RunOutcome


def start_run(
    flow_cls: type[FlowSpec],
    settings: Settings,
    *,
    flow_file: str,
    raw_parameters: Mapping[str, Any] | None = None,
    tags: tuple[str, ...] = (),
    executor: str | None = None,
    max_workers: int | None = None,
    max_num_splits: int | None = None,
    namespace: str | None = None,
    run_id_file: str | None = None,
    quiet: bool = False,
    reporter: Reporter | None = None,
) -> RunOutcome:
    """Validate everything that can be validated, then run the flow locally."""
    from stepwell.graph import check_flow
    from stepwell.runtime import EXECUTORS

    graph = check_flow(flow_cls)
    username = settings.username
    parameters = resolve_parameters(flow_cls, raw_parameters or {}, user=username)
    _apply_configs(graph, flow_cls, parameters)
    executor_name = executor or settings.executor
    if executor_name not in EXECUTORS:
        raise ConfigError(
            f"Unknown executor {executor_name!r}; available: {', '.join(sorted(EXECUTORS))}."
        )
    home = Path(settings.home)
    home.mkdir(parents=True, exist_ok=True)
    options = RunOptions(
        parameters=parameters,
        tags=tags,
        max_workers=max_workers or settings.max_workers,
        max_num_splits=max_num_splits or settings.max_num_splits,
        namespace=namespace if namespace is not None else f"user:{username}",
        run_id_file=run_id_file,
        flow_file=flow_file,
    )
    run = LocalRun(
        flow_cls,
        graph,
        home=home,
        username=username,
        options=options,
        executor=EXECUTORS[executor_name](),
        reporter=reporter or make_reporter(quiet),
        metadata_factory=lambda: _open_metadata(home),
    )
    return run.run()


def _apply_configs(graph: Any, flow_cls: type[FlowSpec], values: Mapping[str, Any]) -> None:
    """Give decorator attributes written as ``config.x.y`` their values for this run."""
    configs = {
        attr: values[attr] for attr, p in flow_cls._sw_parameters().items() if p.kind == "config"
    }
    for node in graph:
        node.decorators = tuple(resolve_decorator(d, configs) for d in node.decorators)


def _open_metadata(home: Path) -> Any:
    from stepwell.metadata import SqliteMetadataStore

    return SqliteMetadataStore(home / "stepwell.db")
