"""``Task.exception``: a failed attempt's error as an exception object, as Metaflow returns it.

Metaflow returns a ``MetaflowExceptionWrapper`` with ``.type`` (the qualified
class name, ``builtins.ValueError``), ``.exception`` (the message) and
``.stacktrace`` (the traceback text); ``str()`` of it is the traceback. stepwell
records a failure as its traceback text; this module rebuilds that object from it.
"""

from __future__ import annotations

import builtins
import re

from stepwell.exceptions import CaughtException

_HEADER = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::(?: (?P<message>.*))?)?$")


class TaskException(CaughtException):
    """The failure of one task attempt (``Task.exception``).

    Attributes:
        type: the exception's class, qualified as Metaflow shows it (``builtins.ValueError``).
        exception: its message (the text after ``Type:``).
        stacktrace: the whole traceback text, with stepwell's own frames trimmed.

    ``str()`` gives the traceback text, as in Metaflow; ``"text" in exc`` searches it.

    Example:
        >>> err = Task("TrainFlow/3/train/7").exception  # doctest: +SKIP
        >>> err.type, err.exception  # doctest: +SKIP
        ('builtins.ValueError', 'bad learning rate')
    """

    def __init__(self, exception_type: str, message: str, traceback: str = "") -> None:
        super().__init__(exception_type, message, traceback)
        self.type = _qualified(exception_type)
        self.exception = message
        self.stacktrace = traceback

    @classmethod
    def from_text(cls, text: str) -> TaskException:
        """Rebuild the object from the recorded traceback text."""
        exception_type, message = _last_exception(text)
        return cls(exception_type, message, text)

    def __str__(self) -> str:
        return self.stacktrace or f"{self.exception_type}: {self.message}"

    def __repr__(self) -> str:
        return f"TaskException(type={self.type!r}, exception={self.exception!r})"

    def __contains__(self, text: object) -> bool:
        return isinstance(text, str) and text in str(self)

    def splitlines(self, keepends: bool = False) -> list[str]:
        """The traceback's lines (code that treated ``Task.exception`` as text keeps working)."""
        return str(self).splitlines(keepends)

    def __reduce__(self) -> tuple:
        return (type(self), (self.exception_type, self.message, self.stacktrace))


def _qualified(name: str) -> str:
    if "." not in name and isinstance(getattr(builtins, name, None), type):
        return f"builtins.{name}"
    return name


def _last_exception(text: str) -> tuple[str, str]:
    """(type, message) of the last exception of a traceback text."""
    lines = text.rstrip("\n").splitlines()
    start = 0
    for i, line in enumerate(lines):
        if line.startswith('  File "'):
            start = i + 1
    while start < len(lines) and lines[start].startswith("    "):
        start += 1  # the frame's source line and its carets
    tail = lines[start:] or lines[-1:] or [""]
    match = _HEADER.match(tail[0])
    if match is None:
        return "Exception", "\n".join(tail)
    message = "\n".join([match.group("message") or "", *tail[1:]]).strip("\n")
    return match.group("type"), message
