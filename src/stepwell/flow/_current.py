"""``current``: what the running task knows about itself.

``current`` is a view over a context variable that the task runner sets for
the duration of a step; nothing here is a mutable module-level singleton.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any

from stepwell.exceptions import StepwellError


@dataclass(frozen=True)
class CurrentInfo:
    """The values behind ``current`` for one task attempt."""

    flow_name: str
    run_id: str
    step_name: str
    task_id: str
    retry_count: int = 0
    origin_run_id: str | None = None
    namespace: str | None = None
    username: str = ""
    tags: frozenset[str] = frozenset()
    parameter_names: tuple[str, ...] = ()
    datastore_root: str = ""  # the run's datastore: a local directory or s3://bucket/prefix
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def pathspec(self) -> str:
        return f"{self.flow_name}/{self.run_id}/{self.step_name}/{self.task_id}"

    def with_extras(self, **extras: Any) -> CurrentInfo:
        return replace(self, extras={**self.extras, **extras})


_CURRENT: ContextVar[CurrentInfo | None] = ContextVar("stepwell_current", default=None)


@contextmanager
def use_current(info: CurrentInfo) -> Iterator[CurrentInfo]:
    """Make ``info`` what ``current`` shows inside the ``with`` block."""
    token = _CURRENT.set(info)
    try:
        yield info
    finally:
        _CURRENT.reset(token)


class Current:
    """``from stepwell import current``; e.g. ``current.run_id`` inside a step."""

    @property
    def is_running_flow(self) -> bool:
        return _CURRENT.get() is not None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        info = _CURRENT.get()
        if info is None:
            raise StepwellError(
                f"current.{name} is only available while a step runs "
                "(check current.is_running_flow first)."
            )
        if name in info.extras:
            return info.extras[name]
        if name == "card":  # a step without @card: Metaflow ignores card calls, with a warning
            return _NoCards(info.step_name)
        try:
            return getattr(info, name)
        except AttributeError:
            raise AttributeError(
                f"current has no attribute '{name}'. Available: "
                + ", ".join(sorted([*_PUBLIC, *info.extras]))
            ) from None

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return getattr(self, name)
        except (AttributeError, StepwellError):
            return default

    def __repr__(self) -> str:
        info = _CURRENT.get()
        return f"<current {info.pathspec}>" if info else "<current: no step is running>"


class _NoCards:
    """``current.card`` in a step without ``@card``: every call warns and does nothing."""

    def __init__(self, step: str) -> None:
        self._step = step

    def _ignore(self, *args: Any, **kwargs: Any) -> None:
        import warnings

        warnings.warn(
            f"current.card is used in step '{self._step}', which has no @card; add @card to "
            "the step to keep what it shows.",
            stacklevel=3,
        )

    append = extend = clear = refresh = _ignore

    def __getitem__(self, card_id: str) -> _NoCards:
        self._ignore()
        return self


_PUBLIC = (
    "flow_name",
    "run_id",
    "step_name",
    "task_id",
    "retry_count",
    "origin_run_id",
    "pathspec",
    "namespace",
    "username",
    "tags",
    "parameter_names",
    "datastore_root",
    "is_running_flow",
)

current = Current()
