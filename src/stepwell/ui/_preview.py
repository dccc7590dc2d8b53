"""Previews of artifact values: the value when small, shape/dtype for arrays, first rows of tables.

Loading an artifact may unpickle it, which runs code: the store must be trusted
(DESIGN.md). Large values are never loaded, except arrays (memory-mapped) and
DataFrames up to ``TABLE_MAX`` bytes.
"""

from __future__ import annotations

import json
from typing import Any

VALUE_MAX = 64 << 10
IMAGE_MAX = 4 << 20  # PNG/JPEG/GIF bytes (or PIL images) up to this size show as images
_IMAGE_MAGIC = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF8": "image/gif",
}
TABLE_MAX = 64 << 20
TEXT_MAX = 2000
ROWS = 10


def preview(record: Any, load: Any) -> dict[str, Any]:
    """A JSON-ready preview of the artifact ``record``; ``load()`` returns its value."""
    type_name = str(record.type_name)
    try:
        if type_name.startswith("numpy.") and type_name.endswith("ndarray"):
            return _array(load())
        if type_name.endswith("DataFrame"):
            if record.size > TABLE_MAX:
                return {"kind": "too_large", "meta": _meta(record)}
            return _table(load())
        maybe_image = type_name == "builtins.bytes" or type_name.startswith("PIL.")
        if maybe_image and record.size <= IMAGE_MAX:
            image = _image(load())
            if image is not None:
                return image
        if record.size > VALUE_MAX:
            return {"kind": "too_large", "meta": _meta(record)}
        return _value(load())
    except Exception as exc:  # a preview never breaks the page
        return {"kind": "error", "message": f"{type(exc).__name__}: {exc}"[:500]}


def _meta(record: Any) -> dict[str, Any]:
    try:
        meta = json.loads(record.meta)
    except (ValueError, TypeError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _array(value: Any) -> dict[str, Any]:
    flat = value.reshape(-1)[:10] if value.size else value.reshape(-1)
    return {
        "kind": "array", "shape": list(value.shape), "dtype": str(value.dtype),
        "head": _text(repr(flat.tolist())),
    }  # fmt: skip


def _table(frame: Any) -> dict[str, Any]:
    head = frame.head(ROWS)
    return {
        "kind": "table",
        "shape": list(frame.shape),
        "columns": [_text(str(c), 200) for c in head.columns],
        "dtypes": [str(d) for d in head.dtypes],
        "index": [_text(str(i), 200) for i in head.index],
        "rows": [[_text(str(v), 200) for v in row] for row in head.itertuples(index=False)],
    }


def _image(value: Any) -> dict[str, Any] | None:
    """An image preview (a data URL) of image bytes or a PIL image; None if not an image."""
    import base64
    import io

    if hasattr(value, "save") and hasattr(value, "size"):  # a PIL image
        buffer = io.BytesIO()
        value.save(buffer, format="PNG")
        value = buffer.getvalue()
    if not isinstance(value, (bytes, bytearray)):
        return None
    kind = next(
        (k for magic, k in _IMAGE_MAGIC.items() if bytes(value[:8]).startswith(magic)), None
    )
    if kind is None:
        return None
    encoded = base64.b64encode(bytes(value)).decode("ascii")
    return {"kind": "image", "src": f"data:{kind};base64,{encoded}", "bytes": len(value)}


def _value(value: Any) -> dict[str, Any]:
    text = repr(value)
    return {"kind": "value", "text": _text(text), "truncated": len(text) > TEXT_MAX}


def _text(text: str, limit: int = TEXT_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
