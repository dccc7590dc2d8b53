"""User step decorators: a generator function (``@user_step_decorator``) or a class.

As a generator function::

    @user_step_decorator
    def timed(step_name, flow, inputs=None, attributes=None):
        start = time.time()
        yield                      # the step runs here
        flow.seconds = time.time() - start

As a class, with Metaflow's hooks::

    class timed(UserStepDecorator):
        def init(self, *args, **kwargs):      # the decorator's arguments
            self.label = kwargs.get("label")

        def pre_step(self, step_name, flow, inputs=None):
            self.start = time.time()           # return a callable to run instead

        def post_step(self, step_name, flow, exception=None):
            flow.seconds = time.time() - self.start
            return exception                   # None swallows it

Either is applied as ``@timed`` or ``@timed(key=value)`` above ``@step``, or
to every step with ``--with module.timed:key=value``. Code before ``yield``
(``pre_step``) runs before the step, code after it (``post_step``) once the
step ended; the step's exception reaches ``yield`` (``post_step``), and is
swallowed unless raised again. Instead of running the step, a decorator may
skip it (``yield {}``, no ``yield`` at all, or ``skip_step = True``), with a
dict of ``self.next()`` arguments (``yield {"foreach": "items"}``), or run
another function (``yield fn`` / ``pre_step`` returning ``fn``, called as the
step would be). A skipped or replaced step that does not call ``self.next()``
takes the step's own transition.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

from stepwell.exceptions import DecoratorError, StepwellError, render_if_uncaught
from stepwell.flow._decorators import STEP_DECORATORS_ATTR

UserFunction = Callable[..., Generator[Any, None, None]]

#: What a decorator yields (or sets as ``skip_step``) to skip the step: Metaflow's name.
USER_SKIP_STEP: dict[str, Any] = {}


@dataclass(frozen=True)
class StepPlan:
    """How the step's own code is replaced, when a user decorator says so.

    ``skip``: the step's code does not run; ``next_args`` (may be empty) go to
    ``self.next()``. ``replacement``: run this instead of the step function.
    """

    skip: bool = False
    next_args: Mapping[str, Any] | None = None
    replacement: Callable[..., Any] | None = None


def plan_of(value: Any, name: str) -> StepPlan | None:
    """The plan a decorator asked for by what it yielded (or returned from ``pre_step``)."""
    if value is None or value is False:
        return None
    if value is True:
        return StepPlan(skip=True, next_args={})
    if isinstance(value, Mapping):
        return StepPlan(skip=True, next_args=dict(value))
    if callable(value):
        return StepPlan(replacement=value)
    raise StepwellError(
        f"@{name} yielded {value!r}; yield nothing (run the step), a dict (skip it; the dict "
        "holds self.next() arguments) or a callable (run it instead of the step)."
    )


class UserStepDecorator:
    """Base class of user step decorators written as classes (Metaflow's hooks).

    Override :meth:`init` (arguments), :meth:`pre_step` and :meth:`post_step`.
    ``skip_step`` (set in ``pre_step``) skips the step: ``True``, or a dict of
    ``self.next()`` arguments.
    """

    is_user_decorator: ClassVar[bool] = True
    allow_multiple: ClassVar[bool] = False

    _args: tuple[Any, ...]
    _kwargs: dict[str, Any]
    _initialised: bool
    skip_step: Any

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        self = super().__new__(cls)
        self._args = args
        self._kwargs = dict(kwargs)
        self._initialised = False
        self.skip_step = False
        if len(args) == 1 and not kwargs and inspect.isfunction(args[0]):
            self._args = ()  # ``@deco`` without arguments: attach, leave the function as is
            return self.attach(args[0])
        return self

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Arguments are kept for :meth:`init` (called once config values are known)."""

    def __call__(self, func: Any) -> Any:
        return self.attach(func)

    @property
    def NAME(self) -> str:
        return type(self).__name__

    # -- recording --------------------------------------------------------------------
    def attach(self, func: Any) -> Any:
        if isinstance(func, type) or not callable(func):
            render_if_uncaught()
            raise DecoratorError(
                f"@{self.NAME} is a step decorator; apply it to a @step method, not to {func!r}.",
                decorator=self.NAME,
            )
        existing = list(getattr(func, STEP_DECORATORS_ATTR, ()))
        if not self.allow_multiple and any(d.NAME == self.NAME for d in existing):
            render_if_uncaught()
            raise DecoratorError(
                f"@{self.NAME} is applied twice to step '{func.__name__}'; it may appear once.",
                decorator=self.NAME,
            )
        setattr(func, STEP_DECORATORS_ATTR, [*existing, self])
        return func

    def attributes(self) -> dict[str, Any]:
        """The keyword arguments it was given (what ``show`` and ``decorator_specs`` list)."""
        return dict(self._kwargs)

    @property
    def args(self) -> list[Any]:
        return list(self._args)

    def with_configs(self, configs: Mapping[str, Any]) -> UserStepDecorator:
        """A copy whose config-valued arguments are resolved, initialised with them."""
        fresh = object.__new__(type(self))
        fresh.__dict__.update(self.__dict__)
        fresh._args = tuple(_resolved(v, configs) for v in self._args)
        fresh._kwargs = {k: _resolved(v, configs) for k, v in self._kwargs.items()}
        fresh._initialised = False
        fresh.ensure_init()
        return fresh

    def ensure_init(self) -> None:
        if not self._initialised:
            self._initialised = True
            self.init(*self._args, **self._kwargs)

    # -- the hooks users override ------------------------------------------------------
    def init(self, *args: Any, **kwargs: Any) -> None:
        """Take the decorator's arguments (override it when the decorator has some)."""
        if args or kwargs:
            raise DecoratorError(
                f"@{self.NAME} was given arguments but defines no init(self, *args, **kwargs) "
                "to take them.",
                decorator=self.NAME,
            )

    def pre_step(self, step_name: str, flow: Any, inputs: Any = None) -> Any:
        """Before the step; return None to run it, or a callable to run instead."""
        return None

    def post_step(self, step_name: str, flow: Any, exception: BaseException | None = None) -> Any:
        """After the step; return the exception to raise (None: the step succeeded).

        Or ``(exception, next_args)``: ``next_args`` a dict of ``self.next()``
        arguments to take the transition with ({} for the step's own).
        """
        return exception

    # -- what the runtime calls ----------------------------------------------------------
    @contextmanager
    def around(self, step_name: str, flow: Any, inputs: Any) -> Iterator[StepPlan | None]:
        """Run the hooks around one run of the step; yields how to run it (None: as is)."""
        self.ensure_init()
        self.skip_step = False
        replacement = self.pre_step(step_name, flow, inputs)
        plan = plan_of(self.skip_step, self.NAME) or plan_of(replacement, self.NAME)
        try:
            yield plan
        except BaseException as exc:
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            self._finish(self.post_step(step_name, flow, exc), flow, caught=exc)
            return
        self._finish(self.post_step(step_name, flow, None), flow, caught=None)

    def _finish(self, outcome: Any, flow: Any, caught: BaseException | None) -> None:
        exception, next_args = outcome, None
        if isinstance(outcome, tuple):
            exception, next_args = (*outcome, None, None)[:2]
        if next_args is not None:
            flow.__dict__["_sw_next_args"] = dict(next_args)
        if exception is caught and caught is not None:
            raise caught
        if exception is not None:
            raise exception

    def __repr__(self) -> str:
        shown = [repr(a) for a in self._args] + [f"{k}={v!r}" for k, v in self._kwargs.items()]
        return f"@{self.NAME}({', '.join(shown)})"


def _resolved(value: Any, configs: Mapping[str, Any]) -> Any:
    if getattr(value, "__stepwell_delayed__", False):
        return value.resolve(configs)
    return value


class GeneratorStepDecorator(UserStepDecorator):
    """A user step decorator made from a generator function (``@user_step_decorator``)."""

    function: Any
    wrapper: Any

    def __new__(
        cls, function: UserFunction | None = None, options: Mapping[str, Any] | None = None
    ) -> Any:
        self = object.__new__(cls)
        self._args = ()
        self._kwargs = dict(options or {})
        self._initialised = True
        self.skip_step = False
        self.function = getattr(function, "user_function", function)
        self.wrapper = function if function is not self.function else None
        return self

    def __init__(
        self, function: UserFunction | None = None, options: Mapping[str, Any] | None = None
    ) -> None:
        pass

    @property
    def NAME(self) -> str:
        return str(getattr(self.function, "__name__", "user_decorator"))

    @property
    def options(self) -> dict[str, Any]:
        return dict(self._kwargs)

    def ensure_init(self) -> None:
        self._initialised = True

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled by the name users import (the decorator, not the generator it wraps):
        # the subprocess executor sends a step's decorators to its task this way
        return (_generator_decorator, (self.wrapper or self.function, self._kwargs))

    @contextmanager
    def around(self, step_name: str, flow: Any, inputs: Any) -> Iterator[StepPlan | None]:
        """Run the user's generator around one run of the step."""
        generator = self._call(step_name, flow, inputs)
        if not hasattr(generator, "send"):
            raise StepwellError(f"@{self.NAME} must be a generator function that yields once.")
        try:
            plan = plan_of(next(generator), self.NAME)
        except StopIteration:
            plan = StepPlan(skip=True, next_args={})  # never yielded: the step does not run
            yield plan
            return
        try:
            yield plan
        except BaseException as exc:
            try:
                generator.throw(exc)
            except StopIteration:
                return  # the decorator handled the step's exception
            raise StepwellError(f"@{self.NAME} yielded again after the step failed.") from exc
        try:
            next(generator)
        except StopIteration:
            return
        raise StepwellError(f"@{self.NAME} yielded more than once; yield exactly once.")

    def _call(self, step_name: str, flow: Any, inputs: Any) -> Any:
        try:
            takes = len(inspect.signature(self.function).parameters)
        except (TypeError, ValueError):
            takes = 4
        if takes == 3:  # Metaflow allows (step_name, flow, inputs) without attributes
            if self._kwargs:
                raise StepwellError(
                    f"@{self.NAME} was given attributes but its function takes no 'attributes' "
                    "argument; add one: (step_name, flow, inputs, attributes)."
                )
            return self.function(step_name, flow, inputs)
        return self.function(step_name, flow, inputs, dict(self._kwargs))


def _generator_decorator(function: Any, options: dict[str, Any]) -> GeneratorStepDecorator:
    return GeneratorStepDecorator(function, options)


def user_step_decorator(function: UserFunction) -> Callable[..., Any]:
    """Make a step decorator from ``function(step_name, flow, inputs=None, attributes=None)``."""
    if not callable(function):
        raise DecoratorError(f"@user_step_decorator needs a generator function, got {function!r}.")

    def decorator(target: Any = None, /, **attributes: Any) -> Any:
        instance = GeneratorStepDecorator(decorator, attributes)
        if target is not None:
            return instance.attach(target)
        return instance.attach

    decorator.__name__ = function.__name__
    decorator.__qualname__ = function.__qualname__  # found by this name when pickled
    decorator.__module__ = function.__module__
    decorator.__doc__ = function.__doc__
    decorator.user_function = function  # type: ignore[attr-defined]
    return decorator
