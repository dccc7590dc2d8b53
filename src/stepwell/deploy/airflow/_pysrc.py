"""Writing Python source: literals, command lines with placeholders, wrapped lines.

The generated file should read like code a person wrote: double-quoted
strings, lines under :data:`WIDTH`, one keyword argument per line.

Every command line in it is built by :func:`stepwell.deploy.task_command` (or
:func:`~stepwell.deploy.finish_run_command`) at compile time, with a
placeholder (:func:`mark`) for each value only the running task knows (its
try, the DAG run, its inputs); :func:`argv_source` writes such a list as a
Python list expression, each placeholder replaced by its expression
(:data:`EXPRESSIONS`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

WIDTH = 99

#: Placeholders -> the Python expressions that replace them in the generated file.
EXPRESSIONS = {
    "step": "step",
    "flow": "FLOW",
    "flow_file": "FLOW_FILE",
    "package": "PACKAGE",
    "run_key": "run_key(ti)",
    "attempt": "str(ti.try_number - 1)",
    "status": "run_status(ti)",
    "pathspec": 'found["pathspec"]',
    "split_pathspec": 'split["pathspec"]',
    "split_index": 'str(split["split_index"])',
    "each": 'json.dumps([found["pathspec"] for found in results])',
    "name": "name",
    "value": "text",
}
_PLACEHOLDER = re.compile("\x00([a-z_]+)\x00")


def mark(name: str) -> str:
    """The placeholder of ``EXPRESSIONS[name]`` in an argv."""
    if name not in EXPRESSIONS:
        raise KeyError(f"no expression for placeholder {name!r}")
    return f"\x00{name}\x00"


def lit(value: Any) -> str:
    """A Python literal of ``value`` (str, number, bool, None, list, tuple, dict), double-quoted."""
    if isinstance(value, str):
        return json.dumps(value)
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{lit(k)}: {lit(v)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple):
        inner = ", ".join(lit(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(lit(v) for v in value) + "]"
    raise TypeError(f"no Python literal for {type(value).__name__} {value!r}")


def argv_source(argv: list[str], tail: str = "", indent: int = 4) -> str:
    """``argv`` as a Python list expression, wrapped at :data:`WIDTH` after ``indent``.

    An argument that is a placeholder becomes its expression; one that holds
    placeholders becomes an f-string; any other a string literal.
    """
    items = [_arg_source(arg) for arg in argv] + ([tail] if tail else [])
    return wrapped("[", items, "]", indent)


def _arg_source(arg: str) -> str:
    whole = _PLACEHOLDER.fullmatch(arg)
    if whole:
        return EXPRESSIONS[whole.group(1)]
    if not _PLACEHOLDER.search(arg):
        return lit(arg)
    parts = _PLACEHOLDER.split(arg)  # literal, name, literal, name, ...
    text = "".join(
        "{" + EXPRESSIONS[p] + "}" if i % 2 else p.replace("{", "{{").replace("}", "}}")
        for i, p in enumerate(parts)
    )
    return "f" + json.dumps(text)


def wrapped(
    opening: str, items: Iterable[str], closing: str, indent: int, *, outer: int = 0
) -> str:
    """``opening item, item closing`` on one line, or packed lines under :data:`WIDTH`.

    ``indent``: the indentation of the line it starts on; ``outer``: more that the
    caller adds to every line afterwards.
    """
    items = list(items)
    one_line = f"{opening}{', '.join(items)}{closing}"
    if outer + indent + len(one_line) + 12 <= WIDTH:  # room for "return " or "x = " before it
        return one_line
    pad = " " * (indent + 4)
    lines, line = [], ""
    for item in items:
        candidate = f"{line} {item}," if line else f"{item},"
        if line and outer + len(pad) + len(candidate) > WIDTH:
            lines.append(line)
            candidate = f"{item},"
        line = candidate
    lines.append(line)
    body = "\n".join(pad + text for text in lines)
    return f"{opening}\n{body}\n{' ' * indent}{closing}"


def docstring(text: str, indent: int) -> str:
    """A one-line (or wrapped) docstring at ``indent``."""
    import textwrap

    text = " ".join(text.split()).replace("\\", "\\\\").replace('"""', "'''")
    pad = " " * indent
    if len(pad) + len(text) + 6 <= WIDTH:
        return f'{pad}"""{text}"""'
    lines = textwrap.wrap(text, WIDTH - indent - 3)
    return f'{pad}"""' + lines[0] + "".join(f"\n{pad}{line}" for line in lines[1:]) + f'\n{pad}"""'
