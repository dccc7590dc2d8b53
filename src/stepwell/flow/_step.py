"""``@step``: marks a FlowSpec method as a step of the flow."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from stepwell.exceptions import FlowDefinitionError

F = TypeVar("F", bound=Callable[..., Any])

STEP_ATTR = "__stepwell_step__"


@dataclass(frozen=True)
class StepMarker:
    """What ``@step`` records: whether the step is flagged as the start or end."""

    start: bool = False
    end: bool = False


@overload
def step(f: F) -> F: ...
@overload
def step(*, start: bool = False, end: bool = False) -> Callable[[F], F]: ...


def step(f: Any = None, *, start: bool = False, end: bool = False) -> Any:
    """Mark a method of a :class:`FlowSpec` as a step.

    ``@step`` alone, or ``@step(start=True)`` / ``@step(end=True)`` to make a
    step with another name the flow's start or end.

    Example:
        >>> class HelloFlow(FlowSpec):
        ...     @step
        ...     def start(self):
        ...         self.next(self.end)
        ...     @step
        ...     def end(self):
        ...         pass
    """

    def mark(func: F) -> F:
        if not callable(func) or not hasattr(func, "__code__"):
            raise FlowDefinitionError(f"@step must decorate a method, got {func!r}.")
        setattr(func, STEP_ATTR, StepMarker(start=start, end=end))
        return func

    if f is None:
        return mark
    return mark(f)


def is_step(obj: Any) -> bool:
    return callable(obj) and isinstance(getattr(obj, STEP_ATTR, None), StepMarker)


def step_marker(obj: Any) -> StepMarker:
    marker = getattr(obj, STEP_ATTR, None)
    return marker if isinstance(marker, StepMarker) else StepMarker()
