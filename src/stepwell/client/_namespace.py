"""The current namespace: process state, as in Metaflow (``namespace``, ``get_namespace``).

A namespace is a tag: a run is in namespace ``ns`` when ``ns`` is one of its
user or system tags. ``None`` is the global namespace (everything). The
default is ``user:<name>``, the user resolved by :mod:`stepwell.config`; inside a
running step it is the run's own namespace (for a ``@project`` run, its branch).
"""

from __future__ import annotations

import sys

from stepwell.client import _backend
from stepwell.client._tags import check_tag


class _NamespaceState:
    """The one holder of the process's namespace; ``explicit`` False means "the default"."""

    __slots__ = ("explicit", "value")

    def __init__(self) -> None:
        self.explicit = False
        self.value: str | None = None

    def reset(self) -> None:
        self.explicit = False
        self.value = None


STATE = _NamespaceState()


def namespace(ns: str | None) -> str | None:
    """Switch the current namespace to ``ns`` (``None``: the global namespace); return it.

    Example:
        >>> namespace("user:alice")  # doctest: +SKIP
        'user:alice'
        >>> namespace(None)  # doctest: +SKIP
    """
    if ns is not None:
        check_tag(ns, what="namespace")
    STATE.explicit = True
    STATE.value = ns
    return ns


def get_namespace() -> str | None:
    """The current namespace (``None`` is the global namespace)."""
    if STATE.explicit:
        return STATE.value
    return _default()


def default_namespace() -> str:
    """Switch back to the default namespace, ``user:<name>``, and return it."""
    STATE.reset()
    return _default()


def _default() -> str:
    # Inside a step (the flow package is loaded then): the run's namespace. Outside one,
    # importing the flow package just to learn that no step runs would cost ~10 ms.
    loaded = sys.modules.get("stepwell.flow._current")
    current = getattr(loaded, "current", None)
    if current is not None and current.is_running_flow and current.namespace:
        return str(current.namespace)
    return f"user:{_backend.get_backend().username}"
