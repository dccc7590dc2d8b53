"""``@user_step_decorator``: users write their own step decorators as generator functions.

Example:
    >>> @user_step_decorator
    ... def timed(step_name, flow, inputs=None, attributes=None):
    ...     start = time.time()
    ...     yield                      # the step runs here
    ...     flow.seconds = time.time() - start

Applied as ``@timed`` or ``@timed(key=value)`` above ``@step``. Code before
``yield`` runs before the step, code after it once the step succeeded; a
``try``/``except`` around ``yield`` sees the step's exception (re-raise it to
let the step fail). The decorator reads and sets artifacts through ``flow``
and sees ``current`` like the step does.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

from stepwell.exceptions import DecoratorError, StepwellError
from stepwell.flow._decorators import StepDecorator

UserFunction = Callable[..., Generator[None, None, None]]


@dataclass(repr=False)
class UserStepDecorator(StepDecorator):
    """A step decorator made from a user's generator function."""

    is_user_decorator: ClassVar[bool] = True
    allow_multiple = False
    function: Any = None
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.NAME = getattr(self.function, "__name__", "user_decorator")  # type: ignore[misc]

    @contextmanager
    def around(self, step_name: str, flow: Any, inputs: Any) -> Iterator[None]:
        """Run the user's generator around one run of the step."""
        generator = self.function(step_name, flow, inputs, dict(self.options))
        if not hasattr(generator, "send"):
            raise StepwellError(f"@{self.NAME} must be a generator function that yields once.")
        try:
            next(generator)
        except StopIteration:
            raise StepwellError(f"@{self.NAME} returned without yielding to the step.") from None
        try:
            yield
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

    def __repr__(self) -> str:
        return f"@{self.NAME}({', '.join(f'{k}={v!r}' for k, v in self.options.items())})"


def user_step_decorator(function: UserFunction) -> Callable[..., Any]:
    """Make a step decorator from ``function(step_name, flow, inputs=None, attributes=None)``."""
    if not callable(function):
        raise DecoratorError(f"@user_step_decorator needs a generator function, got {function!r}.")

    def decorator(target: Any = None, /, **attributes: Any) -> Any:
        instance = UserStepDecorator(function=function, options=attributes)
        if target is not None:
            return instance.attach(target)
        return instance.attach

    decorator.__name__ = function.__name__
    decorator.__doc__ = function.__doc__
    return decorator
