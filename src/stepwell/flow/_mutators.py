"""``FlowMutator`` and ``StepMutator``: classes that change a flow's decorators before a run.

A mutator is written as a class and applied like a decorator::

    class robust_flow(FlowMutator):
        def init(self, *args, **kwargs):          # the decorator's arguments
            self.times = kwargs.get("times", 2)

        def mutate(self, mutable_flow):
            for name, step in mutable_flow.steps:
                step.add_decorator("retry", deco_kwargs={"times": self.times})

    @robust_flow(times=3)
    class TrainFlow(FlowSpec): ...

Here the mutator is only recorded on the class (``@robust_flow`` without
arguments leaves the name bound to the class itself). The run applies every
mutator once its configs are known and ``--with`` decorators are attached,
before anything starts: ``init`` with the arguments (config values resolved),
then ``pre_mutate`` and ``mutate`` of flow mutators, then of step mutators
(see ``stepwell.runtime``). Flow mutators of a base class apply to its
subclasses too.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, ClassVar

from stepwell.exceptions import DecoratorError, render_if_uncaught

FLOW_MUTATORS_ATTR = "__stepwell_flow_mutators__"
STEP_MUTATORS_ATTR = "__stepwell_step_mutators__"


class _Mutator:
    """What flow and step mutators share: arguments kept until the run resolves them."""

    KIND: ClassVar[str] = "mutator"
    #: How ``add_decorator`` treats a decorator the step or flow already has.
    ERROR: ClassVar[int] = 0
    IGNORE: ClassVar[int] = 1
    OVERRIDE: ClassVar[int] = 2

    _args: tuple[Any, ...]
    _kwargs: dict[str, Any]

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        self = super().__new__(cls)
        self._args = args
        self._kwargs = kwargs
        if len(args) == 1 and not kwargs and cls._is_target(args[0]):
            self._args = ()  # ``@mutator`` without arguments: the target is returned as is
            return self._attach(args[0])
        return self

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Arguments are kept for :meth:`init`, called when the run applies the mutator."""

    def __call__(self, target: Any) -> Any:
        if not self._is_target(target):
            render_if_uncaught()
            raise DecoratorError(
                f"@{self.name} is a {self.KIND}; apply it to "
                f"{'a FlowSpec class' if self.KIND == 'FlowMutator' else 'a @step method'}, "
                f"not to {target!r}.",
                decorator=self.name,
            )
        return self._attach(target)

    @classmethod
    def _is_target(cls, value: Any) -> bool:
        raise NotImplementedError

    def _attach(self, target: Any) -> Any:
        raise NotImplementedError

    @property
    def name(self) -> str:
        return type(self).__name__

    def init(self, *args: Any, **kwargs: Any) -> None:
        """Take the decorator's arguments (override it when the mutator has some)."""
        if args or kwargs:
            raise DecoratorError(
                f"@{self.name} was given arguments but defines no init(self, *args, **kwargs) "
                "to take them.",
                decorator=self.name,
            )

    def external_init(self, configs: Mapping[str, Any]) -> None:
        """Resolve config values among the arguments, then call :meth:`init`."""
        args = [_resolved(value, configs) for value in self._args]
        kwargs = {key: _resolved(value, configs) for key, value in self._kwargs.items()}
        self.init(*args, **kwargs)

    def __repr__(self) -> str:
        shown = [repr(a) for a in self._args] + [f"{k}={v!r}" for k, v in self._kwargs.items()]
        return f"@{self.name}({', '.join(shown)})"


def _resolved(value: Any, configs: Mapping[str, Any]) -> Any:
    if getattr(value, "__stepwell_delayed__", False):
        return value.resolve(configs)
    return value


class FlowMutator(_Mutator):
    """Base class of flow mutators: ``pre_mutate`` and ``mutate`` get a ``MutableFlow``."""

    KIND = "FlowMutator"

    @classmethod
    def _is_target(cls, value: Any) -> bool:
        return isinstance(value, type)

    def _attach(self, target: Any) -> Any:
        existing = list(target.__dict__.get(FLOW_MUTATORS_ATTR, ()))
        setattr(target, FLOW_MUTATORS_ATTR, [self, *existing])  # the top one applies first
        return target

    def pre_mutate(self, mutable_flow: Any) -> None:
        """Called first, once configs are known."""

    def mutate(self, mutable_flow: Any) -> None:
        """Called after every ``pre_mutate``, once ``--with`` decorators are attached."""


class StepMutator(_Mutator):
    """Base class of step mutators: ``pre_mutate`` and ``mutate`` get a ``MutableStep``."""

    KIND = "StepMutator"

    @classmethod
    def _is_target(cls, value: Any) -> bool:
        return inspect.isfunction(value) or getattr(value, "is_step", False)

    def _attach(self, target: Any) -> Any:
        existing = list(getattr(target, STEP_MUTATORS_ATTR, ()))
        setattr(target, STEP_MUTATORS_ATTR, [self, *existing])
        return target

    def pre_mutate(self, mutable_step: Any) -> None:
        """Called first, once configs are known."""

    def mutate(self, mutable_step: Any) -> None:
        """Called after every ``pre_mutate``, once ``--with`` decorators are attached."""


def flow_mutators(cls: type) -> list[FlowMutator]:
    """The flow mutators of ``cls`` and its bases, base classes' first."""
    found: list[FlowMutator] = []
    for klass in reversed(cls.__mro__):
        found.extend(klass.__dict__.get(FLOW_MUTATORS_ATTR, ()))
    return found


def step_mutators(func: Any) -> list[StepMutator]:
    """The step mutators written on a step function, top one first."""
    return list(getattr(func, STEP_MUTATORS_ATTR, ()))
