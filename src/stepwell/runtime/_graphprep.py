"""A run's graph made the run's own, and its step environments: what runs and deployments share.

Light on purpose (no executor, no run loop): the compilers (``stepwell.deploy``)
and ``deploy`` import it to resolve decorators exactly as a run would.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stepwell.config import Settings
from stepwell.exceptions import ConfigError
from stepwell.flow import FlowDecorator, FlowSpec, StepMutator, resolve_decorator
from stepwell.metadata import is_local
from stepwell.runtime._report import Reporter


def _build_environments(
    graph: Any, flow_decorators: list[Any], settings: Settings, reporter: Reporter
) -> dict[str, Any]:
    """The @pypi / @conda environments of the run's steps, built now (or found built)."""
    from stepwell.environments import step_environments

    if not step_environments(graph, flow_decorators):
        return {}  # no step asks: nothing of uv (nor of the environment store) is touched
    from stepwell.environments import prepare_environments, runtime_requirements

    runtime = runtime_requirements(
        s3=settings.datastore_url.startswith("s3://"), postgres=not is_local(settings.metadata)
    )
    return prepare_environments(
        graph, flow_decorators, home=Path(settings.home), runtime=runtime,
        say=lambda line: None if reporter.quiet else reporter.status(line),
    )  # fmt: skip


def prepare_graph(
    graph: Any,
    flow_cls: type[FlowSpec],
    parameters: Mapping[str, Any],
    with_decorators: tuple[str, ...] = (),
) -> list[Any]:
    """Make ``graph`` the run's: config values in decorators, ``--with``, then mutators.

    Returns the run's flow decorators (mutators may change them).
    """
    from stepwell.runtime._mutate import apply_mutators

    configs = _configs_of(flow_cls, parameters)
    _apply_configs(graph, flow_cls, parameters)
    mutators = [attach_everywhere(graph, spec, configs) for spec in with_decorators]
    extra = tuple(m for m in mutators if m is not None)
    return [resolve_decorator(d, configs) for d in apply_mutators(graph, flow_cls, configs, extra)]


def attach_everywhere(
    graph: Any, spec: str, configs: Mapping[str, Any] | None = None
) -> StepMutator | None:
    """``--with NAME[:attr=value,...]``: the decorator on every step that lacks one of its kind.

    ``NAME`` is a stepwell decorator or ``module.name`` of a user decorator or step
    mutator (returned, for the caller to apply to every step). Values are read as
    JSON where they parse (``times=3`` is an int), else as text.
    """
    from stepwell.runtime._mutate import build_decorator

    try:
        decorator = build_decorator(spec, configs or {})
    except ConfigError as exc:
        raise ConfigError(f"--with {spec!r}: {exc.message}") from None
    if isinstance(decorator, StepMutator):
        return decorator
    if isinstance(decorator, FlowDecorator):
        raise ConfigError(f"--with {spec!r}: @{decorator.NAME} is a flow decorator, not a step's.")
    for node in graph:
        if node.decorator(decorator.NAME) is None:
            node.decorators = (*node.decorators, decorator)
    return None


def _configs_of(flow_cls: type[FlowSpec], values: Mapping[str, Any]) -> dict[str, Any]:
    """The run's config values by attribute name and by config name (``config_expr`` uses both)."""
    configs: dict[str, Any] = {}
    for attr, parameter in flow_cls._sw_parameters().items():
        if parameter.kind == "config" and attr in values:
            configs.setdefault(parameter.name, values[attr])
            configs[attr] = values[attr]
    return configs


def _apply_configs(graph: Any, flow_cls: type[FlowSpec], values: Mapping[str, Any]) -> None:
    """Give decorator attributes written as ``config.x.y`` their values for this run."""
    configs = _configs_of(flow_cls, values)
    for node in graph:
        node.decorators = tuple(resolve_decorator(d, configs) for d in node.decorators)


class OneStepGraph:
    """A flow's graph seen as one of its steps: only that step's environment is built."""

    def __init__(self, graph: Any, node: Any) -> None:
        self.flow_name, self.file, self.line = graph.flow_name, graph.file, graph.line
        self._node = node

    def __iter__(self) -> Any:
        return iter([self._node])
