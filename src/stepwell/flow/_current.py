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
        if name in _NONE_UNLESS_SET:
            return None
        if name in _CLIENT_OBJECTS:
            return _client_object(name, info)
        try:
            return getattr(info, name)
        except AttributeError:
            raise AttributeError(_unknown(name, info)) from None

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return getattr(self, name)
        except (AttributeError, StepwellError):
            return default

    def __repr__(self) -> str:
        info = _CURRENT.get()
        return f"<current {info.pathspec}>" if info else "<current: no step is running>"


def _unknown(name: str, info: CurrentInfo) -> str:
    if name in _PROJECT:
        return (
            f"current.{name} is set only in a flow with @project; {info.flow_name} has none. "
            "Add @project(name='...') to the flow class."
        )
    if name == "parallel":
        return "current.parallel is set only in a @parallel step."
    available = sorted({*_PUBLIC, *_NONE_UNLESS_SET, *_CLIENT_OBJECTS, *info.extras, "card"})
    return (
        f"current has no attribute '{name}'. Available here: {', '.join(available)}; "
        f"with @project also: {', '.join(_PROJECT)}; in a @parallel step: parallel."
    )


def _client_object(name: str, info: CurrentInfo) -> Any:
    """``current.run`` / ``current.task``: the Client objects of this run and task."""
    import importlib

    client = importlib.import_module("stepwell.client")  # above this layer: found by name
    if name == "run":
        return client.Run(f"{info.flow_name}/{info.run_id}", _namespace_check=False)
    return client.Task(info.pathspec, _namespace_check=False)


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

    def __setitem__(self, card_id: str, components: Any) -> None:
        self._ignore()

    @property
    def components(self) -> dict[str, list[Any]]:
        """No card, so no components: an empty mapping (read-only in effect)."""
        return {}


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
#: None unless the run sets them: ``trigger`` (a run started by an event), ``tempdir``.
_NONE_UNLESS_SET = ("trigger", "tempdir")
_CLIENT_OBJECTS = ("run", "task")
_PROJECT = ("project_name", "branch_name", "is_user_branch", "is_production", "project_flow_name")

current = Current()
