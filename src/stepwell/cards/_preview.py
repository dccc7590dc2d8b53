"""Short previews of values for cards: type, shape/dtype, first rows; never the whole value."""

from __future__ import annotations

import reprlib
from typing import Any

from stepwell.cards._html import esc

_HEAD_ROWS = 5


def type_name(value: Any) -> str:
    kind = type(value)
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def short_repr(value: Any, limit: int = 200) -> str:
    """``repr(value)`` cut to about ``limit`` characters (big containers are not walked)."""
    shortener = reprlib.Repr()
    shortener.maxstring = shortener.maxother = limit
    shortener.maxlist = shortener.maxtuple = shortener.maxdict = shortener.maxset = 10
    try:
        text = shortener.repr(value)
    except Exception as exc:  # a user __repr__ may raise anything
        text = f"<repr failed: {type(exc).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe(value: Any) -> str:
    """One line: shape and dtype for arrays and frames, length for containers."""
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if shape is not None and not callable(shape):
        text = f"shape {tuple(shape)}"
        if dtype is not None:
            text += f", dtype {dtype}"
        elif hasattr(value, "dtypes"):
            text += f", columns {len(getattr(value, 'columns', []))}"
        return text
    if isinstance(value, str | bytes | list | tuple | dict | set | frozenset):
        return f"length {len(value)}"
    return ""


def _is_dataframe(value: Any) -> bool:
    return (
        type(value).__name__ == "DataFrame" and hasattr(value, "head") and hasattr(value, "columns")
    )


def dataframe_head(frame: Any, rows: int = _HEAD_ROWS) -> str:
    head = frame.head(rows)
    header = "".join(f"<th>{esc(c)}</th>" for c in head.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(short_repr(v, 60))}</td>" for v in row) + "</tr>"
        for row in head.itertuples(index=False, name=None)  # each column keeps its type
    )
    return f'<table class="sw-table"><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>'


def preview_html(value: Any, limit: int = 200) -> str:
    """An HTML preview of ``value``: type, description, then the head or a short repr."""
    meta = " ".join(part for part in (type_name(value), describe(value)) if part)
    out = f'<span class="sw-muted">{esc(meta)}</span>'
    if _is_dataframe(value):
        try:
            return out + dataframe_head(value)
        except Exception:  # an exotic frame: fall back to its repr
            pass
    return out + f'<pre class="sw-code">{esc(short_repr(value, limit))}</pre>'
