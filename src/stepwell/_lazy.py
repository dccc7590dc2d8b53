"""Lazy package attributes: a name is imported from its module the first time it is used.

A package's ``__init__`` lists its public names and the private module each
lives in; ``__getattr__ = lazy_attributes(__name__, TABLE)`` then imports a
module only when one of its names is asked for, so a process that needs a
little of a package (a task worker, a compiler) does not pay for all of it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(package: str, table: Mapping[str, str]) -> Callable[[str], Any]:
    """The ``__getattr__`` of ``package``: ``table`` maps each name to its module (``_x``)."""

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)  # found directly from now on
        return value

    return __getattr__
