"""The items of a foreach, materialized once in the splitting task.

The splitting task turns the iterable into a list once (so a set, a generator
or a dict view gives each branch exactly one item, every item once) and
stores it as one blob: a count, an offset table, then one pickle per item.
A branch reads only its own item, so a 100,000-way foreach costs each branch
O(1), not O(width).
"""

from __future__ import annotations

import pickle
import struct
from collections.abc import Iterable
from typing import Any

_HEADER = struct.Struct("<Q")


def materialize(values: Iterable[Any]) -> list[Any]:
    """The items of a foreach, iterated exactly once."""
    return list(values)


def is_one_shot(values: Any) -> bool:
    """Iterators, generators and dict views: not worth (or not able) to store as they are."""
    return iter(values) is values or type(values).__name__ in _DICT_VIEWS


_DICT_VIEWS = ("dict_keys", "dict_values", "dict_items")


def encode_items(items: list[Any]) -> tuple[bytes, int]:
    """One blob holding every item; returns (blob, number of items)."""
    pickles = [pickle.dumps(item, protocol=5) for item in items]
    offsets = [0]
    for data in pickles:
        offsets.append(offsets[-1] + len(data))
    table = struct.pack(f"<{len(offsets)}Q", *offsets)
    return _HEADER.pack(len(pickles)) + table + b"".join(pickles), len(pickles)


def decode_item(blob: bytes | memoryview, index: int) -> Any:
    """Item ``index`` of a blob made by :func:`encode_items`."""
    view = memoryview(blob)
    (count,) = _HEADER.unpack_from(view, 0)
    if not 0 <= index < count:
        raise IndexError(f"foreach item {index} out of range 0..{count - 1}")
    start, end = struct.unpack_from("<2Q", view, _HEADER.size + 8 * index)
    base = _HEADER.size + 8 * (count + 1)
    return pickle.loads(view[base + start : base + end])
