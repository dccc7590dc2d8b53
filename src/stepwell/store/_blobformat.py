"""The on-disk blob format of the content store, hashing, and the compression policy.

A blob file is a fixed 64-byte header followed by the payload::

    offset  size  field
    0       4     magic b"SWBL"
    4       1     format version (1)
    5       1     codec (0 = none, 1 = zstd)
    6       2     reserved (zero)
    8       8     uncompressed payload size, little-endian
    16      48    reserved (zero)

The header is 64 bytes so an uncompressed payload starts 64-byte aligned in a
memory map: typed buffers (NumPy, Arrow) are used in place without copying.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from typing import Any

import blake3

from stepwell.exceptions import CorruptBlobError, StorageError

MAGIC = b"SWBL"
FORMAT_VERSION = 1
HEADER_SIZE = 64
CODEC_NONE = 0
CODEC_ZSTD = 1
CODEC_NAMES = {CODEC_NONE: "none", CODEC_ZSTD: "zstd"}

_HEADER = struct.Struct("<4sBBHQ")
_HEADER_PAD = bytes(HEADER_SIZE - _HEADER.size)

MIN_COMPRESS_SIZE = 4 << 10  # smaller payloads are stored as they are
MAX_COMPRESS_RATIO = 0.85  # compress only if a sample shrinks below this fraction
SAMPLE_SIZE = 64 << 10  # big payloads are judged on three slices of this size
_THREADED_HASH_SIZE = 1 << 20
_THREADED_ZSTD_SIZE = 8 << 20

# blake3's multi-threaded mode uses a process-wide Rust (rayon) thread pool, which does not
# survive fork(): a forked child that hashes with it hangs. We note which process started the
# pool and hash single-threaded in any other (forked) process.
_threaded_hash_pid: int | None = None


def pack_header(codec: int, raw_size: int) -> bytes:
    return _HEADER.pack(MAGIC, FORMAT_VERSION, codec, 0, raw_size) + _HEADER_PAD


def unpack_header(
    blob: bytes | bytearray | memoryview, key: str, context: str = ""
) -> tuple[int, int]:
    """Return (codec, uncompressed size) from a blob's first bytes, checking the magic."""
    if len(blob) < HEADER_SIZE:
        raise corrupt(key, context, f"the file is {len(blob)} bytes, shorter than its header")
    magic, version, codec, _, raw_size = _HEADER.unpack_from(blob)
    if magic != MAGIC:
        raise corrupt(key, context, "the file does not start with a stepwell blob header")
    if version != FORMAT_VERSION or codec not in CODEC_NAMES:
        raise StorageError(
            f"Blob {key!r} uses format version {version}, codec {codec}, which this version "
            "of stepwell cannot read. Upgrade stepwell to read it.",
            key=key,
        )
    return codec, raw_size


def corrupt(key: str, context: str, reason: str) -> CorruptBlobError:
    """A CorruptBlobError naming the key and, when given, what the blob holds."""
    where = f" ({context})" if context else ""
    return CorruptBlobError(
        f"Blob {key!r}{where} is corrupt: {reason}.\n"
        "The stored bytes changed after they were written. Re-run the task that produced it.",
        key=key,
        context=context,
    )


def hash_buffers(buffers: Sequence[memoryview], size: int) -> str:
    """Hex BLAKE3 digest of the buffers' concatenation; multi-threaded for large inputs."""
    hasher = blake3.blake3(max_threads=_hash_threads() if size >= _THREADED_HASH_SIZE else 1)
    for buffer in buffers:
        hasher.update(buffer)
    return hasher.hexdigest()


def _hash_threads() -> int:
    global _threaded_hash_pid
    pid = os.getpid()
    if _threaded_hash_pid is None:
        _threaded_hash_pid = pid
    return int(blake3.blake3.AUTO) if _threaded_hash_pid == pid else 1


def _zstd() -> Any:
    """The zstandard module, imported on first use: reading a raw blob never needs it."""
    import zstandard

    return zstandard


def should_compress(buffers: Sequence[memoryview], size: int) -> bool:
    """Whether zstd pays for this payload, judged on a sample of it."""
    if size < MIN_COMPRESS_SIZE:
        return False
    sample = _sample(buffers, size)
    compressed = _zstd().ZstdCompressor(level=1).compress(sample)
    return len(compressed) < MAX_COMPRESS_RATIO * len(sample)


def _sample(buffers: Sequence[memoryview], size: int) -> bytes:
    if size <= 3 * SAMPLE_SIZE:
        return b"".join(buffers)
    starts = (0, (size - SAMPLE_SIZE) // 2, size - SAMPLE_SIZE)
    return b"".join(_read_range(buffers, start, SAMPLE_SIZE) for start in starts)


def _read_range(buffers: Sequence[memoryview], start: int, length: int) -> bytes:
    """Bytes [start, start + length) of the buffers' concatenation."""
    out = bytearray()
    offset = 0
    for buffer in buffers:
        end = offset + len(buffer)
        if end > start and offset < start + length:
            lo = max(start - offset, 0)
            out += buffer[lo : lo + length - len(out)]
        offset = end
        if len(out) >= length:
            break
    return bytes(out)


def compress(buffers: Sequence[memoryview], size: int, level: int) -> bytes:
    """One zstd frame (recording the content size) of the buffers' concatenation."""
    threads = -1 if size >= _THREADED_ZSTD_SIZE else 0
    # A fresh compressor per call: a live multi-threaded zstd context must not outlive the
    # call, or a fork() taken meanwhile leaves the child's zstd threads hanging.
    compressor = _zstd().ZstdCompressor(level=level, threads=threads)
    stream = compressor.compressobj(size=size)
    parts = [stream.compress(buffer) for buffer in buffers]
    parts.append(stream.flush())
    return b"".join(parts)


def decompress(data: memoryview, raw_size: int, key: str, context: str) -> bytearray:
    """The payload of a zstd frame, decompressed straight into a new writable buffer."""
    zstandard = _zstd()
    out = bytearray(raw_size)
    view = memoryview(out)
    filled = 0
    try:
        with zstandard.ZstdDecompressor().stream_reader(data, read_across_frames=False) as reader:
            while filled < raw_size:
                count = reader.readinto(view[filled:])
                if not count:
                    break
                filled += count
            extra = reader.read(1) if filled == raw_size else b""
    except zstandard.ZstdError as err:
        raise corrupt(key, context, f"zstd could not decompress it ({err})") from err
    if filled != raw_size or extra:
        size = f"{filled}" if not extra else f"more than {raw_size}"
        raise corrupt(key, context, f"it decompressed to {size} bytes, expected {raw_size}")
    return out
