"""Knowing a payload's key without hashing it, when its bytes are a loaded blob's own memory.

A large local blob is read as a copy-on-write memory map of its file, and values are built on
it without copying (NumPy arrays, Arrow columns of DataFrames). A step that reads such a value
and passes it on saves it again at its end (it may have been changed in place), and its
serialization is then the same memory, buffer for buffer. If, besides, the kernel says no page
of the map was ever written, those bytes are still the blob's, which was verified when it was
read: its key is known, and hashing hundreds of megabytes again is skipped.

The kernel's word is ``/proc/self/pagemap``: a page of a private file map that the process
writes turns into an anonymous page of its own, which the map's entry shows. Anything else (a
buffer elsewhere, other framing, a page written, no pagemap outside Linux) is hashed as usual.
"""

from __future__ import annotations

import ctypes
import mmap
import threading
import weakref
from collections.abc import Sequence
from typing import NamedTuple

#: Below this many bytes a payload is hashed: cheaper than reading its pages' entries.
MIN_BYTES = 1 << 20  # the content store notes no smaller map either
#: Buffers that are not the map's own memory (a stream's framing) are compared byte for
#: byte with it, up to this many bytes in all; more, and the payload is hashed instead.
MAX_COMPARED_BYTES = 1 << 20

PAGEMAP = "/proc/self/pagemap"
# The top byte of a pagemap entry: bit 7 present, bit 6 swapped, bit 5 a file page. A page of
# a private file map is as its file holds it when absent (never touched, or dropped and read
# again from the file) or present as a file page; written, it is anonymous (present or swapped).
_UNWRITTEN_TOP_BYTES = bytes(b for b in range(256) if b & 0xC0 == 0 or b & 0xA0 == 0xA0)


class _Buffer(ctypes.Structure):
    """CPython's ``Py_buffer`` (part of the stable ABI): where an object's bytes are."""

    _fields_ = [
        ("buf", ctypes.c_void_p),
        ("obj", ctypes.c_void_p),
        ("len", ctypes.c_ssize_t),
        ("itemsize", ctypes.c_ssize_t),
        ("readonly", ctypes.c_int),
        ("ndim", ctypes.c_int),
        ("format", ctypes.c_char_p),
        ("shape", ctypes.c_void_p),
        ("strides", ctypes.c_void_p),
        ("suboffsets", ctypes.c_void_p),
        ("internal", ctypes.c_void_p),
    ]


def address(obj: object) -> int:
    """The address of the first byte of a contiguous buffer (``obj`` must export one)."""
    view = _Buffer()
    ctypes.pythonapi.PyObject_GetBuffer(ctypes.py_object(obj), ctypes.byref(view), 0)
    try:
        return view.buf or 0
    finally:
        ctypes.pythonapi.PyBuffer_Release(ctypes.byref(view))


def pages_unwritten(start: int, length: int) -> bool:
    """Whether this process never wrote a page of its private file maps in [start, start +
    length); False also when the kernel cannot tell (no pagemap, or one that hides writes)."""
    return _pagemap_shows_writes() and _read_unwritten(start, length)


_shows_writes: bool | None = None


def _pagemap_shows_writes() -> bool:
    """Whether this kernel's pagemap tells a written page of a private file map from a read
    one (asked once a process): one that hides its entries (all zeros) would pass every
    page as unwritten."""
    global _shows_writes
    if _shows_writes is None:
        _shows_writes = _probe()
    return _shows_writes


def _probe() -> bool:
    import tempfile

    page = mmap.PAGESIZE
    try:
        with tempfile.TemporaryFile() as f:
            f.write(bytes(2 * page))
            f.flush()
            mapped = mmap.mmap(f.fileno(), 2 * page, access=mmap.ACCESS_COPY)
    except OSError:
        return False
    try:
        start = address(mapped)
        if mapped[0] != 0:  # the first page read...
            return False
        mapped[page] = 1  # ...the second written
        return _read_unwritten(start, page) and not _read_unwritten(start + page, page)
    finally:
        mapped.close()


def _read_unwritten(start: int, length: int) -> bool:
    if length <= 0:
        return True
    page = mmap.PAGESIZE
    first, last = start // page, (start + length - 1) // page
    want = (last - first + 1) * 8
    try:
        with open(PAGEMAP, "rb", buffering=0) as f:
            f.seek(first * 8)
            entries = f.read(want)
    except OSError:
        return False
    if len(entries) != want:
        return False
    return not entries[7::8].translate(None, _UNWRITTEN_TOP_BYTES)


class _Map(NamedTuple):
    key: str
    start: int  # address of the payload's first byte
    offset: int  # where the payload starts in the map
    size: int
    mapped: weakref.ref[mmap.mmap]


class MappedBlobs:
    """The verified blobs this process holds as copy-on-write maps, by address.

    An entry goes when its map is freed (no value uses it any more), so an address is never
    taken for another blob's.
    """

    def __init__(self) -> None:
        self._maps: dict[int, _Map] = {}
        self._lock = threading.Lock()

    def add(self, mapped: mmap.mmap, offset: int, key: str, size: int) -> None:
        """Note that bytes [offset, offset + size) of ``mapped`` are blob ``key``, verified."""
        if size < MIN_BYTES:
            return
        start = address(mapped) + offset

        def forget(_: object) -> None:
            with self._lock:
                self._maps.pop(start, None)

        with self._lock:
            self._maps[start] = _Map(key, start, offset, size, weakref.ref(mapped, forget))

    def key_of(self, buffers: Sequence[memoryview], size: int) -> str | None:
        """The key of the payload ``buffers`` (``size`` bytes in all) when they are a noted
        blob's unwritten memory, laid out as in the blob; else None (hash them)."""
        if size < MIN_BYTES or not self._maps:
            return None
        starts = [address(buffer) if len(buffer) else 0 for buffer in buffers]
        found = self._find(starts, size)
        if found is None:
            return None
        mapped = found.mapped()
        if mapped is None or mapped.closed:
            return None
        position = compared = 0
        for buffer, start in zip(buffers, starts, strict=True):
            length = len(buffer)
            if length and start != found.start + position:
                compared += length
                where = found.offset + position
                if compared > MAX_COMPARED_BYTES or mapped[where : where + length] != buffer:
                    return None
            position += length
        return found.key if pages_unwritten(found.start, found.size) else None

    def _find(self, starts: Sequence[int], size: int) -> _Map | None:
        """The noted map one of the buffers lies in, when it holds a payload of ``size``."""
        with self._lock:
            maps = list(self._maps.values())
        for start in starts:
            for entry in maps:
                if entry.start <= start < entry.start + entry.size:
                    return entry if entry.size == size else None
        return None
