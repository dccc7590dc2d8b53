"""What every client object shares: pathspec, namespace, tags, containers, pickling."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from typing import Any, ClassVar, TypeVar

from stepwell.client import _backend
from stepwell.client._errors import InvalidPathspecError, in_namespace, outside_namespace
from stepwell.client._namespace import get_namespace
from stepwell.exceptions import NotFoundError

T = TypeVar("T", bound="ClientObject")

#: Client classes by pathspec depth (1: Flow ... 5: DataArtifact), filled by _objects.py.
CLASSES: dict[int, type[ClientObject]] = {}

_LABELS = ("flow name", "run id", "step name", "task id", "artifact name")


def split_pathspec(pathspec: object, depth: int, kind: str) -> tuple[str, ...]:
    """The components of ``pathspec``, which must have exactly ``depth`` non-empty ones."""
    expected = "/".join(_LABELS[:depth])
    if not isinstance(pathspec, str):
        raise InvalidPathspecError(
            f"{kind}() takes a pathspec string '{expected}', not {type(pathspec).__name__}."
        )
    parts = tuple(pathspec.split("/"))
    if len(parts) != depth or not all(parts):
        raise InvalidPathspecError(
            f"Invalid {kind} pathspec {pathspec!r}: expected '{expected}' "
            f"({depth} non-empty component{'s' if depth > 1 else ''} separated by '/').",
            pathspec=pathspec,
        )
    return parts


def to_datetime(epoch: float | None) -> _dt.datetime | None:
    """A UTC-aware datetime for an epoch timestamp (``None`` stays ``None``)."""
    if epoch is None:
        return None
    return _dt.datetime.fromtimestamp(epoch, tz=_dt.timezone.utc)


def _restore(cls: type[T], pathspec: str, attempt: int | None, ns: str | None) -> T:
    """Unpickle: resolve the pathspec again, in the namespace the object was made in."""
    obj = cls.__new__(cls)
    obj._parts = tuple(pathspec.split("/"))
    obj._ns = ns
    obj._attempt = attempt
    obj._run = None
    obj._resolve(check=True)
    return obj


class ClientObject:
    """Base of Flow, Run, Step, Task and DataArtifact (not instantiated itself).

    Every object remembers the namespace current when it was made (its
    children inherit it) and the record of its run, so walking down from a
    run costs no namespace check nor run lookup.
    """

    _DEPTH: ClassVar[int]
    _KIND: ClassVar[str]

    _parts: tuple[str, ...]
    _ns: str | None
    _attempt: int | None
    _run: Any  # the RunRecord (None for a Flow)

    def __init__(self, pathspec: str, *, _namespace_check: bool = True) -> None:
        self._parts = split_pathspec(pathspec, self._DEPTH, type(self).__name__)
        self._ns = get_namespace()
        self._attempt = None
        self._run = None
        self._resolve(check=_namespace_check)

    @classmethod
    def _child(cls: type[T], parts: tuple[str, ...], ns: str | None, run: Any, **state: Any) -> T:
        """An object whose ancestors were resolved already: ``state`` holds its records."""
        obj = cls.__new__(cls)
        obj._parts, obj._ns, obj._run = parts, ns, run
        obj._attempt = state.pop("attempt", None)
        for name, value in state.items():
            setattr(obj, name, value)
        return obj

    # -- resolution -----------------------------------------------------------------

    def _resolve(self, *, check: bool) -> None:
        """Read the object's records; raise NotFoundError if it does not exist."""
        raise NotImplementedError

    def _resolve_run(self, *, check: bool) -> None:
        flow, run_id = self._parts[:2]
        with in_namespace(self._ns):
            self._run = self._backend.metadata.get_run(flow, run_id)
        if check and not self.is_in_namespace():
            raise outside_namespace(
                self._KIND, self.pathspec, self._ns, self._run.tags + self._run.system_tags
            )

    @property
    def _backend(self) -> _backend.Backend:
        return _backend.get_backend()

    # -- identity -------------------------------------------------------------------

    @property
    def id(self) -> str:
        """The last component of the pathspec (flow name, run id, step name, ...)."""
        return self._parts[-1]

    @property
    def pathspec(self) -> str:
        """``Flow/run_id/step/task_id/artifact``, as deep as this object."""
        return "/".join(self._parts)

    @property
    def path_components(self) -> list[str]:
        """The components of the pathspec."""
        return list(self._parts)

    @property
    def parent(self) -> ClientObject | None:
        """The object one level up (a Run's parent is its Flow); ``None`` for a Flow."""
        if self._DEPTH == 1:
            return None
        return self._parent_object()

    def _parent_object(self) -> ClientObject:
        cls = CLASSES[self._DEPTH - 1]
        obj = cls._child(self._parts[:-1], self._ns, self._run)
        obj._resolve_lazily()
        return obj

    def _resolve_lazily(self) -> None:
        """Make a parent usable: objects that need records beyond the run read them now."""

    # -- tags and namespace ---------------------------------------------------------

    @property
    def tags(self) -> frozenset[str]:
        """User and system tags of the run this object belongs to."""
        return self.user_tags | self.system_tags

    @property
    def user_tags(self) -> frozenset[str]:
        """Tags users set (``--tag``, ``Run.add_tag``) on the run this object belongs to."""
        return frozenset(self._run.tags) if self._run is not None else frozenset()

    @property
    def system_tags(self) -> frozenset[str]:
        """Tags stepwell set on the run (``user:<name>``, ...); they cannot be changed."""
        return frozenset(self._run.system_tags) if self._run is not None else frozenset()

    def is_in_namespace(self) -> bool:
        """Whether the object is in the namespace it was made in (always, in ``None``)."""
        return self._ns is None or self._ns in self.tags

    # -- time and origin ------------------------------------------------------------

    @property
    def created_at(self) -> _dt.datetime | None:
        """When the object was created, as a UTC-aware datetime."""
        raise NotImplementedError

    @property
    def finished_at(self) -> _dt.datetime | None:
        """When the object finished (UTC-aware), or ``None`` while it has not."""
        raise NotImplementedError

    @property
    def origin_pathspec(self) -> str | None:
        """For an object cloned by ``resume``: the pathspec of the object it was cloned from."""
        return None

    # -- container ------------------------------------------------------------------

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError

    def __getitem__(self, child_id: str) -> Any:
        raise NotImplementedError

    def __contains__(self, child_id: object) -> bool:
        if not isinstance(child_id, str):
            return False
        try:
            self[child_id]
        except NotFoundError:
            return False
        return True

    # -- identity, printing, pickling -----------------------------------------------

    def __repr__(self) -> str:
        attempt = f", attempt={self._attempt}" if self._attempt is not None else ""
        return f"{type(self).__name__}('{self.pathspec}'{attempt})"

    __str__ = __repr__

    def _shown_attempt(self) -> int | None:
        """The attempt this object shows (tasks and artifacts); ``None`` above them."""
        record = getattr(self, "_task", None)
        return record.attempt if record is not None else self._attempt

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ClientObject) or type(other) is not type(self):
            return NotImplemented
        return (self._parts, self._shown_attempt()) == (other._parts, other._shown_attempt())

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._parts))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), self.pathspec, self._attempt, self._ns))
