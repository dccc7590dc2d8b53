"""The fallback serializer: pickle protocol 5 with out-of-band buffers in one framed payload.

Payload layout (integers little-endian)::

    u32 buffer count n | u64 pickle length | n x u64 buffer lengths
    pickle bytes | pad | buffer 0 | pad | buffer 1 | ...

Each out-of-band buffer starts at a multiple of 64 bytes from the payload's
start (and the content store keeps payloads 64-byte aligned).

Large buffers (NumPy arrays, Arrow buffers, bytearrays, ...) travel outside the
pickle stream, so they are written without a copy and, on load, used in place
from the blob: arrays inside dicts and lists are views of the copy-on-write
memory map of the blob (writable; the blob itself never changes).

Loading a pickle runs code named in it: only load blobs from a trusted store.
"""

from __future__ import annotations

import pickle
import struct
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from stepwell.exceptions import SerializationError

if TYPE_CHECKING:  # the storage layer is not needed to (de)serialize
    from stepwell.store._storage import BufferLike

ALIGNMENT = 64
_COUNT = struct.Struct("<IQ")
_LENGTH = struct.Struct("<Q")


def _padding(size: int) -> int:
    return -size % ALIGNMENT


class PickleSerializer:
    """Any picklable object; protocol 5 with buffers kept out of band (zero copy)."""

    name = "pickle"

    def can_serialize(self, obj: object) -> bool:
        return True

    def dump(self, obj: object) -> tuple[list[BufferLike], dict[str, Any]]:
        pickle_buffers: list[pickle.PickleBuffer] = []
        try:
            stream = pickle.dumps(obj, protocol=5, buffer_callback=pickle_buffers.append)
            raws = [buffer.raw() for buffer in pickle_buffers]
        except (pickle.PicklingError, TypeError, AttributeError, BufferError) as err:
            raise _unpicklable(obj, err) from err
        except RecursionError as err:
            raise _unpicklable(obj, "it is nested too deeply") from err
        return _frame(stream, raws), {"protocol": 5}

    def load(self, buffer: BufferLike, meta: Mapping[str, Any]) -> object:
        view = memoryview(buffer).cast("B")
        stream, buffers = _unframe(view)
        return pickle.loads(stream, buffers=buffers)


def _frame(stream: bytes, raws: list[memoryview]) -> list[BufferLike]:
    header = _COUNT.pack(len(raws), len(stream)) + b"".join(
        _LENGTH.pack(raw.nbytes) for raw in raws
    )
    parts: list[BufferLike] = [header, stream]
    offset = len(header) + len(stream)
    for raw in raws:
        pad = _padding(offset)
        if pad:
            parts.append(bytes(pad))
        parts.append(raw)
        offset += pad + raw.nbytes
    return parts


def _unframe(view: memoryview) -> tuple[memoryview, list[memoryview]]:
    try:
        count, stream_length = _COUNT.unpack_from(view)
        lengths = [_LENGTH.unpack_from(view, _COUNT.size + i * 8)[0] for i in range(count)]
    except struct.error as err:
        raise SerializationError(f"The pickle frame header is truncated ({err}).") from err
    start = _COUNT.size + 8 * count
    end = start + stream_length
    stream = view[start:end]
    buffers = []
    for length in lengths:
        start = end + _padding(end)
        end = start + length
        buffers.append(view[start:end])
    if end > len(view):
        raise SerializationError(
            f"The pickle frame needs {end} bytes but the payload holds {len(view)}."
        )
    return stream, buffers


def _unpicklable(obj: object, err: BaseException | str) -> SerializationError:
    kind = f"{type(obj).__module__}.{type(obj).__qualname__}"
    return SerializationError(
        f"Cannot store a value of type {kind!r}: it cannot be pickled ({err}).\n"
        "Store a picklable value instead: turn generators and iterators into lists, "
        "define functions and classes at module level (not lambdas or local functions), "
        "and keep locks, open files, sockets and clients out of artifacts "
        "(create them inside the step, or `del self.<name>` before the step ends).",
        type_name=kind,
    )
