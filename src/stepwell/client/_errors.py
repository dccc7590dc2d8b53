"""The errors the Client API raises, and the message helpers they share."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from stepwell.exceptions import NotFoundError, StepwellError

_MAX_LISTED = 12


class NamespaceMismatchError(NotFoundError):
    """The object exists, but not in the current namespace."""

    headline = "Not in the current namespace"


class ArtifactNotFoundError(NotFoundError, AttributeError):
    """A task has no artifact of that name (a KeyError and an AttributeError)."""

    headline = "Artifact not found"


class InvalidPathspecError(StepwellError, ValueError):
    """A pathspec with the wrong number of components, or empty ones."""

    headline = "Invalid pathspec"


class TagError(StepwellError, ValueError):
    """An invalid tag value, or a change to a system tag."""

    headline = "Invalid tag operation"


def describe_namespace(ns: str | None) -> str:
    return "the global namespace (None)" if ns is None else f"namespace {ns!r}"


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    import difflib  # late: only an error message needs it

    close = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.6)
    if not close:
        return ""
    return " Did you mean " + " or ".join(f"'{c}'" for c in close) + "?"


def listing(label: str, names: list[str]) -> str:
    if not names:
        return ""
    shown = ", ".join(names[:_MAX_LISTED])
    more = f", ... ({len(names) - _MAX_LISTED} more)" if len(names) > _MAX_LISTED else ""
    return f"\n{label}: {shown}{more}."


@contextmanager
def in_namespace(ns: str | None) -> Iterator[None]:
    """Re-raise the metadata store's NotFoundError with the current namespace named."""
    try:
        yield
    except NamespaceMismatchError:
        raise
    except NotFoundError as err:
        message = f"{err.message}\nLooked up in {describe_namespace(ns)}."
        raise NotFoundError(message, **err.fields) from None


def outside_namespace(kind: str, pathspec: str, ns: str | None, tags: Iterable[str]) -> Exception:
    own = sorted(t for t in tags if t.startswith("user:"))
    hint = f", or namespace({own[0]!r}) to see its owner's runs" if own else ""
    return NamespaceMismatchError(
        f"{kind} '{pathspec}' exists, but it is outside the current {describe_namespace(ns)}"
        f" (its tags: {', '.join(sorted(tags)) or 'none'}).\n"
        f"Switch with namespace(None) to see every namespace{hint}.",
        pathspec=pathspec,
        namespace=ns,
    )
