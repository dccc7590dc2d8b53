"""The recording half of decorators: typed attributes, validated at class-definition time.

A decorator never changes how its function runs; it attaches itself to the
step (``func.__stepwell_decorators__``) or the flow class
(``cls.__stepwell_flow_decorators__``). The graph builder and the runtime read
those records and give them meaning.
"""

from __future__ import annotations

import dataclasses
import inspect
import sys
import types
import typing
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar, Union

from stepwell.exceptions import DecoratorError, render_if_uncaught

F = TypeVar("F", bound=Callable[..., Any])

STEP_DECORATORS_ATTR = "__stepwell_decorators__"
FLOW_DECORATORS_ATTR = "__stepwell_flow_decorators__"


def _location(obj: Any) -> str | None:
    try:
        file = inspect.getsourcefile(obj)
        _, line = inspect.getsourcelines(obj)
    except (OSError, TypeError):
        return None
    return f"{file}:{line}"


def _type_ok(value: Any, hint: Any) -> bool:
    if hint is Any:
        return True
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        return any(_type_ok(value, arg) for arg in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if origin is not None:
        return isinstance(value, origin)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def _type_name(hint: Any) -> str:
    if typing.get_origin(hint) in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(hint))
    if hint is type(None):
        return "None"
    return getattr(hint, "__name__", str(hint))


class Decorator:
    """Base of step and flow decorators. Subclasses are dataclasses with a ``NAME``.

    ``@deco`` and ``@deco(attr=value)`` both work. Attribute values are
    checked against the dataclass field types, and :meth:`validate` checks
    ranges; both raise :class:`DecoratorError` naming the decorator, the
    attribute and the valid attributes.
    """

    NAME: ClassVar[str] = ""
    #: May the decorator appear more than once on one step?
    allow_multiple: ClassVar[bool] = False

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        delayed = False
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, field.name)
            hint = hints.get(field.name, Any)
            if _is_delayed(value):  # a Config value: checked once the run resolves it
                delayed = True
                continue
            if not _type_ok(value, hint):
                self._fail(
                    f"@{self.NAME}({field.name}={value!r}): '{field.name}' must be "
                    f"{_type_name(hint)}, got {type(value).__name__}."
                )
        if not delayed:
            self.validate()

    def validate(self) -> None:
        """Check value ranges; override in subclasses and call :meth:`_fail`."""

    def attributes(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    @classmethod
    def attribute_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]

    def _fail(self, message: str) -> typing.NoReturn:
        valid = ", ".join(self.attribute_names()) or "(none)"
        raise DecoratorError(
            f"{message}\n  Valid attributes of @{self.NAME}: {valid}.",
            decorator=self.NAME,
        )

    @classmethod
    def build(cls, **kwargs: Any) -> Decorator:
        unknown = sorted(set(kwargs) - set(cls.attribute_names()))
        if unknown:
            valid = ", ".join(cls.attribute_names()) or "(none)"
            raise DecoratorError(
                f"@{cls.NAME} has no attribute {', '.join(repr(u) for u in unknown)}.\n"
                f"  Valid attributes of @{cls.NAME}: {valid}.",
                decorator=cls.NAME,
                attributes=unknown,
            )
        return cls(**kwargs)

    def __repr__(self) -> str:
        attrs = ", ".join(f"{k}={v!r}" for k, v in self.attributes().items())
        return f"@{self.NAME}({attrs})"


def _is_delayed(value: Any) -> bool:
    return getattr(value, "__stepwell_delayed__", False)


class StepDecorator(Decorator):
    """A decorator that applies to one step."""

    def attach(self, func: F) -> F:
        if isinstance(func, type) or not callable(func):
            raise DecoratorError(
                f"@{self.NAME} is a step decorator; apply it to a @step method, not to {func!r}.",
                location=_location(func),
                decorator=self.NAME,
            )
        existing: list[StepDecorator] = list(getattr(func, STEP_DECORATORS_ATTR, ()))
        if not self.allow_multiple and any(d.NAME == self.NAME for d in existing):
            raise DecoratorError(
                f"@{self.NAME} is applied twice to step '{func.__name__}'; it may appear once.",
                location=_location(func),
                decorator=self.NAME,
            )
        setattr(func, STEP_DECORATORS_ATTR, [*existing, self])
        return func


class FlowDecorator(Decorator):
    """A decorator that applies to a FlowSpec subclass."""

    def attach(self, cls: type) -> type:
        if not isinstance(cls, type):
            raise DecoratorError(
                f"@{self.NAME} is a flow decorator; apply it to the FlowSpec class, "
                f"not to {getattr(cls, '__name__', cls)!r}.",
                location=_location(cls),
                decorator=self.NAME,
            )
        existing = list(cls.__dict__.get(FLOW_DECORATORS_ATTR, ()))
        if not self.allow_multiple and any(d.NAME == self.NAME for d in existing):
            raise DecoratorError(
                f"@{self.NAME} is applied twice to flow '{cls.__name__}'; it may appear once.",
                location=_location(cls),
                decorator=self.NAME,
            )
        setattr(cls, FLOW_DECORATORS_ATTR, [*existing, self])
        return cls


D = TypeVar("D", bound=Decorator)


def make_decorator(cls: type[D]) -> Callable[..., Any]:
    """The user-facing callable for a decorator class: ``@deco`` or ``@deco(**attrs)``."""
    step_level = issubclass(cls, StepDecorator)

    def decorator(target: Any = None, /, **kwargs: Any) -> Any:
        if target is not None and not kwargs and callable(target):
            try:
                return cls.build().attach(target)  # type: ignore[attr-defined]
            except DecoratorError:
                render_if_uncaught()
                raise
        if target is not None:
            kind = "step method" if step_level else "FlowSpec class"
            raise DecoratorError(
                f"@{cls.NAME} takes keyword attributes only (got a positional {target!r}); "
                f"apply it to a {kind} as @{cls.NAME} or @{cls.NAME}(attr=value).",
                decorator=cls.NAME,
            )
        try:
            instance = cls.build(**kwargs)
        except DecoratorError as exc:
            render_if_uncaught()
            if exc.location is None:
                caller = sys._getframe(1)
                exc.location = f"{caller.f_code.co_filename}:{caller.f_lineno}"
            raise

        def apply(obj: Any) -> Any:
            try:
                return instance.attach(obj)  # type: ignore[attr-defined]
            except DecoratorError:
                render_if_uncaught()
                raise

        return apply

    decorator.__name__ = cls.NAME
    decorator.__qualname__ = cls.NAME
    decorator.__doc__ = cls.__doc__
    decorator.decorator_class = cls  # type: ignore[attr-defined]
    return decorator


def step_decorators(func: Callable[..., Any]) -> list[StepDecorator]:
    return list(getattr(func, STEP_DECORATORS_ATTR, ()))


def flow_decorators(cls: type) -> list[FlowDecorator]:
    found: list[FlowDecorator] = []
    for klass in reversed(cls.__mro__):
        found.extend(klass.__dict__.get(FLOW_DECORATORS_ATTR, ()))
    return found
