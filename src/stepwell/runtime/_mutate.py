"""Applying ``FlowMutator`` / ``StepMutator``: ``MutableFlow`` and ``MutableStep`` over the graph.

A run applies them after its configs are resolved and ``--with`` decorators
attached, before anything is checked or started: every mutator's ``init``
gets its arguments (config values resolved), then flow mutators'
``pre_mutate`` (base classes first, then top to bottom), step mutators'
``pre_mutate``, flow mutators' ``mutate`` and step mutators' ``mutate``. The
changes land on the run's graph (``node.decorators``); the flow class is not
touched. Decorators are named as in ``--with``: a stepwell decorator's name
(``"retry"``, ``"environment:vars={...}"``) or a decorator object.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from stepwell.exceptions import ConfigError, DecoratorError
from stepwell.flow import (
    FlowSpec,
    GeneratorStepDecorator,
    StepMutator,
    UserStepDecorator,
    flow_decorators,
    flow_mutators,
    resolve_decorator,
    step_decorators,
    step_mutators,
)


def apply_mutators(
    graph: Any,
    flow_cls: type[FlowSpec],
    configs: Mapping[str, Any],
    extra_step_mutators: tuple[StepMutator, ...] = (),
) -> list[Any]:
    """Run every mutator of the flow on ``graph``; returns the run's flow decorators.

    ``extra_step_mutators`` (from ``--with module.mutator``) apply to every step.
    """
    flow = MutableFlow(graph, flow_cls, configs)
    flow_level = flow_mutators(flow_cls)
    step_level = [
        (node.name, mutator)
        for node in graph
        for mutator in [*step_mutators(getattr(flow_cls, node.name)), *extra_step_mutators]
    ]
    for mutator in [*flow_level, *(m for _, m in step_level)]:
        mutator.external_init(configs)
    for mutator in flow_level:
        mutator.pre_mutate(flow)
    for name, mutator in step_level:
        mutator.pre_mutate(flow.step(name))
    for mutator in flow_level:
        mutator.mutate(flow)
    for name, mutator in step_level:
        mutator.mutate(flow.step(name))
    return flow.flow_decorators


class _Duplicates:
    ERROR = StepMutator.ERROR
    IGNORE = StepMutator.IGNORE
    OVERRIDE = StepMutator.OVERRIDE


class MutableStep(_Duplicates):
    """One step as a mutator sees it: its decorators, to read, add and remove."""

    def __init__(self, flow: MutableFlow, node: Any) -> None:
        self._flow = flow
        self._node = node
        # the decorators written in the code (those --with or a mutator added are not)
        self._static = {d.NAME for d in step_decorators(getattr(flow.flow_cls, node.name))}

    @property
    def name(self) -> str:
        return str(self._node.name)

    @property
    def flow(self) -> MutableFlow:
        return self._flow

    @property
    def decorator_specs(self) -> Iterator[tuple[str, str, list[Any], dict[str, Any]]]:
        """``(name, qualified name, args, kwargs)`` of each decorator of the step."""
        for decorator in self._node.decorators:
            yield _spec_of(decorator)

    def add_decorator(
        self,
        deco_type: Any,
        deco_args: list[Any] | None = None,
        deco_kwargs: dict[str, Any] | None = None,
        duplicates: int = _Duplicates.IGNORE,
    ) -> None:
        """Add a decorator (a name such as ``"retry:times=2"``, or the decorator itself)."""
        decorator = _build(deco_type, deco_args, deco_kwargs, self._flow.configs_by_name)
        if isinstance(decorator, StepMutator):
            decorator.external_init(self._flow.configs_by_name)
            decorator.pre_mutate(self)
            decorator.mutate(self)
            return
        placed = _with_added(
            list(self._node.decorators), decorator, duplicates,
            in_code=decorator.NAME in self._static, owner=f"Step '{self.name}'",
        )  # fmt: skip
        if placed is not None:
            self._node.decorators = tuple(placed)

    def remove_decorator(
        self,
        deco_name: str,
        deco_args: list[Any] | None = None,
        deco_kwargs: dict[str, Any] | None = None,
    ) -> bool:
        """Remove the step's decorators of that name (and those arguments, if given)."""
        name, _, text = deco_name.partition(":")
        wanted = {**_parse_attributes(deco_name, text), **(deco_kwargs or {})}

        def matches(decorator: Any) -> bool:
            spec_name, qualified, args, kwargs = _spec_of(decorator)
            if name not in (spec_name, qualified):
                return False
            if deco_args is not None and list(deco_args) != args:
                return False
            return all(kwargs.get(k) == v for k, v in wanted.items())

        kept = tuple(d for d in self._node.decorators if not matches(d))
        removed = len(kept) != len(self._node.decorators)
        self._node.decorators = kept
        return removed

    def __repr__(self) -> str:
        return f"<MutableStep {self.name}>"


class MutableFlow(_Duplicates):
    """The flow as a mutator sees it: its steps, configs, parameters and flow decorators."""

    def __init__(self, graph: Any, flow_cls: type[FlowSpec], configs: Mapping[str, Any]) -> None:
        self.graph = graph
        self.flow_cls = flow_cls
        self.configs_by_name = dict(configs)
        self.flow_decorators = list(flow_decorators(flow_cls))
        self._steps = {node.name: MutableStep(self, node) for node in graph}

    @property
    def configs(self) -> Iterator[tuple[str, Any]]:
        """``(name, value)`` of each Config of the flow."""
        for attr, parameter in self.flow_cls._sw_parameters().items():
            if parameter.kind == "config":
                yield parameter.name, self.configs_by_name.get(attr)

    @property
    def parameters(self) -> Iterator[tuple[str, Any]]:
        """``(name, Parameter)`` of each Parameter of the flow (Configs not included)."""
        for _attr, parameter in self.flow_cls._sw_parameters().items():
            if parameter.kind != "config":
                yield parameter.name, parameter

    @property
    def steps(self) -> Iterator[tuple[str, MutableStep]]:
        """``(name, MutableStep)`` of each step, in the graph's order."""
        yield from self._steps.items()

    def step(self, name: str) -> MutableStep:
        return self._steps[name]

    @property
    def decorator_specs(self) -> Iterator[tuple[str, str, list[Any], dict[str, Any]]]:
        for decorator in self.flow_decorators:
            yield _spec_of(decorator)

    def has_decorator(self, name: str) -> bool:
        return any(name in _spec_of(d)[:2] for d in self.flow_decorators)

    def add_decorator(
        self,
        deco_type: Any,
        deco_args: list[Any] | None = None,
        deco_kwargs: dict[str, Any] | None = None,
        duplicates: int = _Duplicates.IGNORE,
    ) -> Any:
        """Add a flow decorator (``"project:name=x"``, or ``project`` with ``deco_kwargs``)."""
        decorator = _build(deco_type, deco_args, deco_kwargs, self.configs_by_name, flow=True)
        placed = _with_added(
            self.flow_decorators, decorator, duplicates, in_code=True, owner="The flow"
        )
        if placed is None:
            return None
        self.flow_decorators = placed
        return decorator

    def remove_decorator(
        self,
        deco_name: str,
        deco_args: list[Any] | None = None,
        deco_kwargs: dict[str, Any] | None = None,
    ) -> bool:
        before = len(self.flow_decorators)
        self.flow_decorators = [d for d in self.flow_decorators if deco_name != d.NAME]
        return len(self.flow_decorators) != before

    def add_parameter(self, name: str, value: Any, overwrite: bool = False) -> None:
        raise ConfigError(
            f"A mutator adds parameter {name!r}: stepwell builds a flow's command line from "
            "the class before mutators run, so mutators cannot add or remove parameters yet. "
            "Declare the Parameter on the flow (or a base class) instead."
        )

    def remove_parameter(self, parameter_name: str) -> bool:
        self.add_parameter(parameter_name, None)
        return False

    def __getattr__(self, name: str) -> Any:
        """A config's value by name (``mutable_flow.limits``), else a step, else a parameter."""
        if name.startswith("_"):
            raise AttributeError(name)
        for attr, parameter in self.flow_cls._sw_parameters().items():
            if name in (attr, parameter.name):
                if parameter.kind == "config":
                    return self.configs_by_name.get(attr)
                return parameter
        if name in self._steps:
            return self._steps[name]
        raise AttributeError(f"{self.flow_cls.__name__} has no config, parameter or step {name!r}")

    def __repr__(self) -> str:
        return f"<MutableFlow {self.flow_cls.__name__}>"


# -- decorators by name or object ---------------------------------------------------------


def _with_added(
    decorators: list[Any], decorator: Any, duplicates: int, *, in_code: bool, owner: str
) -> list[Any] | None:
    """``decorators`` with ``decorator`` added as ``duplicates`` says; None: nothing changes.

    ``in_code``: the one already there was written in the flow's code (ERROR then stops
    the run; for one added by ``--with`` or a mutator, the new one is ignored).
    """
    name = decorator.NAME
    if getattr(decorator, "allow_multiple", False) or all(name != d.NAME for d in decorators):
        return [*decorators, decorator]
    if duplicates == _Duplicates.IGNORE:
        return None
    if duplicates == _Duplicates.ERROR:
        if in_code:
            raise DecoratorError(
                f"{owner} already has @{name}; a mutator adding it with duplicates=ERROR "
                "stops here (use IGNORE or OVERRIDE).",
                decorator=name,
            )
        return None
    return [*(d for d in decorators if name != d.NAME), decorator]


def _spec_of(decorator: Any) -> tuple[str, str, list[Any], dict[str, Any]]:
    name = decorator.NAME
    if isinstance(decorator, GeneratorStepDecorator):
        qualified = f"{decorator.function.__module__}.{name}"
    elif isinstance(decorator, UserStepDecorator):
        qualified = f"{type(decorator).__module__}.{name}"
    else:
        qualified = name
    args = list(getattr(decorator, "args", []) or [])
    return name, qualified, args, dict(decorator.attributes())


def _parse_attributes(spec: str, text: str) -> dict[str, Any]:
    """``k=v,k2=v2`` of a ``--with``-style spec: values as JSON where they parse."""
    attributes: dict[str, Any] = {}
    for item in filter(None, re.split(r",(?=\s*[A-Za-z_]\w*\s*=)", text)):
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"{spec!r}: expected attr=value, got {item!r}.")
        try:
            attributes[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            attributes[key.strip()] = value
    return attributes


def build_decorator(spec: str, configs: Mapping[str, Any], *, flow: bool = False) -> Any:
    """A decorator (or step mutator) from ``NAME[:k=v,...]`` or ``module.NAME[:k=v,...]``."""
    name, _, rest = spec.partition(":")
    return _build(name.strip(), None, _parse_attributes(spec, rest), configs, flow=flow)


def _build(
    deco_type: Any,
    deco_args: list[Any] | None,
    deco_kwargs: dict[str, Any] | None,
    configs: Mapping[str, Any],
    *,
    flow: bool = False,
) -> Any:
    from stepwell.decorators import DECORATORS
    from stepwell.flow import FlowDecorator, StepDecorator

    kwargs = dict(deco_kwargs or {})
    args = list(deco_args or [])
    if isinstance(deco_type, str):
        name, sep, rest = deco_type.partition(":")
        if sep:
            if kwargs:
                raise ConfigError(
                    f"add_decorator({deco_type!r}, deco_kwargs=...): give the attributes in the "
                    "string or in deco_kwargs, not both."
                )
            kwargs = _parse_attributes(deco_type, rest)
        deco_type = DECORATORS.get(name) or _import_named(name)
    target = getattr(deco_type, "decorator_class", None)  # a stepwell decorator's function
    if target is not None:
        deco_type = target
    if getattr(deco_type, "user_function", None) is not None:  # made by @user_step_decorator
        return GeneratorStepDecorator(deco_type, kwargs).with_configs(configs)
    if isinstance(deco_type, type) and issubclass(deco_type, UserStepDecorator):
        return deco_type(*args, **kwargs).with_configs(configs)
    if isinstance(deco_type, type) and issubclass(deco_type, StepMutator):
        return deco_type(*args, **kwargs)
    wanted = FlowDecorator if flow else StepDecorator
    if isinstance(deco_type, type) and issubclass(deco_type, wanted):
        return resolve_decorator(deco_type.build(**kwargs), configs)
    if isinstance(deco_type, (UserStepDecorator, StepDecorator, FlowDecorator, StepMutator)):
        return deco_type
    kind = "flow" if flow else "step"
    other = StepDecorator if flow else FlowDecorator
    if isinstance(deco_type, type) and issubclass(deco_type, other):
        raise ConfigError(
            f"@{deco_type.NAME} is a {'step' if flow else 'flow'} decorator, not a {kind} one."
        )
    raise ConfigError(
        f"{deco_type!r} is not a {kind} decorator stepwell knows. Give a decorator's name "
        "(retry, environment, ...), module.name of a custom one, or the decorator itself."
    )


def _import_named(name: str) -> Any:
    """``module.attr`` (``myprofiler.my_profile``), imported as ``--with`` does in Metaflow."""
    import importlib

    module_name, _, attr = name.rpartition(".")
    if not module_name:
        from stepwell.decorators import DECORATORS
        from stepwell.flow import StepDecorator

        known = ", ".join(n for n, c in sorted(DECORATORS.items()) if issubclass(c, StepDecorator))
        raise ConfigError(
            f"No decorator named {name!r}. Known: {known}; or module.name of a custom decorator "
            "(e.g. myprofiler.my_profile)."
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"Cannot import {module_name!r} for decorator {name!r}: {exc}. Run from the folder "
            "that holds it, or put it on PYTHONPATH."
        ) from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ConfigError(f"Module {module_name!r} has no decorator {attr!r}.") from None
