"""Validation of everything a request carries: path segments and query parameters.

Every value is checked against a strict pattern before it reaches the client or
the filesystem, so ``..``, slashes, NUL bytes and the like never get further.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from urllib.parse import unquote

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,199}")
_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")
_INT = re.compile(r"[0-9]{1,12}")
_FLOAT = re.compile(r"[0-9]{1,12}(\.[0-9]{1,9})?")
_TAG = re.compile(r"[^\x00-\x1f]{1,512}")

PATTERNS = {"flow": _NAME, "step": _NAME, "run": _ID, "task": _ID, "index": _INT}
RUN_STATUSES = ("running", "succeeded", "failed")
STREAMS = ("stdout", "stderr")


class ApiError(Exception):
    """A request the API refuses: becomes ``{"error": {"status", "message"}}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def segment(raw: str, kind: str) -> str:
    """A percent-decoded path segment, checked against the pattern of ``kind``."""
    value = unquote(raw, errors="strict") if "%" in raw else raw
    if not PATTERNS[kind].fullmatch(value):
        shown = value if len(value) <= 80 else value[:77] + "..."
        raise ApiError(400, f"Invalid {kind} {shown!r} in the URL: expected {_describe(kind)}.")
    return value


def _describe(kind: str) -> str:
    if kind in ("flow", "step"):
        return "a Python identifier"
    if kind == "index":
        return "a non-negative integer"
    return "letters, digits, '_', '.' or '-' (not starting with '.' or '-')"


def run_pathspec(value: str, name: str) -> tuple[str, str]:
    """``Flow/run_id`` from query parameter ``name``."""
    parts = value.split("/")
    if len(parts) != 2:
        raise ApiError(400, f"Invalid {name}={value!r}: expected a run pathspec 'Flow/run_id'.")
    return segment(parts[0], "flow"), segment(parts[1], "run")


class Query:
    """The query parameters of a request, with typed, validated accessors."""

    def __init__(self, values: Mapping[str, Sequence[str]]) -> None:
        self._values = values

    def text(self, name: str, default: str | None = None) -> str | None:
        found = self._values.get(name)
        if not found or found[-1] == "":
            return default
        if len(found[-1]) > 1024:
            raise ApiError(400, f"Query parameter {name!r} is too long (over 1024 characters).")
        return found[-1]

    def required(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise ApiError(400, f"Query parameter {name!r} is required.")
        return value

    def all(self, name: str) -> list[str]:
        values = [v for v in self._values.get(name, ()) if v]
        for value in values:
            if not _TAG.fullmatch(value):
                raise ApiError(400, f"Invalid {name}={value!r}: 1-512 printable characters.")
        return values

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        value = self.text(name)
        if value is None:
            return default
        if not _INT.fullmatch(value) or not low <= int(value) <= high:
            raise ApiError(
                400, f"Invalid {name}={value!r}: expected an integer from {low} to {high}."
            )
        return int(value)

    def epoch(self, name: str) -> float | None:
        value = self.text(name)
        if value is None:
            return None
        if not _FLOAT.fullmatch(value):
            raise ApiError(
                400, f"Invalid {name}={value!r}: expected epoch seconds, e.g. 1700000000."
            )
        return float(value)

    def choice(self, name: str, choices: Sequence[str], default: str | None = None) -> str | None:
        value = self.text(name, default)
        if value is not None and value not in choices:
            raise ApiError(400, f"Invalid {name}={value!r}: expected one of {', '.join(choices)}.")
        return value
