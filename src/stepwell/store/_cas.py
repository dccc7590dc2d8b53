"""ContentStore: blobs addressed by the BLAKE3 hash of their uncompressed bytes."""

from __future__ import annotations

import contextlib
import mmap
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from stepwell.exceptions import BlobNotFoundError, StorageError
from stepwell.store import _blobformat as fmt
from stepwell.store._storage import BlobData, Storage, as_buffers

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

#: One blob's payload: a buffer, or buffers whose concatenation is the payload.
Payload = BlobData
#: What :meth:`ContentStore.load_blob` returns.
BlobBuffer: TypeAlias = bytes | bytearray | memoryview

_DIGEST = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class BlobRef:
    """A saved blob: its key (hex BLAKE3 digest of the payload) and payload size in bytes.

    ``written`` is False when the blob was already stored and this save skipped it
    (two saves of one content racing each other may both report True).
    """

    key: str
    size: int
    written: bool = True


class ContentStore:
    """Content-addressed blobs on a :class:`Storage`, stored once however often saved.

    A blob's key is the hex BLAKE3 digest of its uncompressed payload; the
    blob lives under ``objects/<first 2 hex>/<other 62 hex>``. A payload is
    hashed first: one already stored is neither compressed nor written again.
    Payloads bound for a remote storage (one without :meth:`Storage.local_path`)
    are zstd-compressed (at ``compression_level``; None turns compression off)
    only when a sample shows it pays. On a local disk compression does not pay
    in time: the page cache takes bytes faster than zstd makes them (~0.6 GB/s
    on two cores) and a raw blob is read back as a memory map, without a copy,
    so local blobs are stored raw unless ``compress_local`` is set (which trades
    that time for disk space). Saving several blobs
    hashes, compresses and writes them in parallel on a thread pool owned by
    the store (created on first use, re-created after a fork); call
    :meth:`close` (or use ``with``) to stop it.

    ``cache`` (a local :class:`Storage`, for a remote ``storage``) keeps a raw
    copy of every blob this machine writes or reads, so the next read of it on
    this machine — by any process — is a memory map instead of a download: the
    thousand tasks of a foreach read their shared items blob once, and a
    value saved by one step is read back locally by the next. Cached copies
    are verified like any other; a damaged one is dropped and read again from
    ``storage``. :func:`prune_cache` keeps the folder under a size.

    Example:
        >>> store = ContentStore(LocalStorage(tmp_path))  # doctest: +SKIP
        >>> [ref] = store.save_blobs([b"hello"])  # doctest: +SKIP
        >>> bytes(store.load_blob(ref.key))  # doctest: +SKIP
        b'hello'
    """

    def __init__(
        self,
        storage: Storage,
        *,
        max_threads: int | None = None,
        compression_level: int | None = 1,
        mmap_threshold: int = 64 << 10,
        compress_local: bool = False,
        cache: Storage | None = None,
    ) -> None:
        self.storage = storage
        self.cache = cache
        self.max_threads = max_threads or min(16, (os.cpu_count() or 1) + 4)
        self.compression_level = compression_level
        self.compress_local = compress_local
        self.mmap_threshold = mmap_threshold
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = 0
        self._lock = threading.Lock()

    def __enter__(self) -> ContentStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the thread pool (a later save starts a new one)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None and self._pool_pid == os.getpid():
            pool.shutdown(wait=True)

    @staticmethod
    def object_key(key: str) -> str:
        """The storage key of the blob whose digest is ``key``."""
        if not isinstance(key, str) or not _DIGEST.fullmatch(key):
            raise StorageError(
                f"Invalid blob key {key!r}: expected 64 lowercase hex characters "
                "(a BLAKE3 digest).",
                key=key,
            )
        return f"objects/{key[:2]}/{key[2:]}"

    def exists(self, key: str) -> bool:
        """Whether the blob ``key`` is stored."""
        return self.storage.exists(self.object_key(key))

    def save_blobs(self, payloads: Sequence[Payload]) -> list[BlobRef]:
        """Hash and store each payload (in parallel), returning refs in the same order.

        A payload already stored is not written again. When this returns, every
        blob is in the storage (durable if the storage was built with fsync).
        """
        if len(payloads) <= 1 or _total_size(payloads) < _PARALLEL_MIN_BYTES:
            return [self._save_one(payload) for payload in payloads]  # threads cost more
        return list(self._executor().map(self._save_one, payloads))

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None or self._pool_pid != os.getpid():  # threads die in a fork
                from concurrent.futures import ThreadPoolExecutor  # only big saves use threads

                self._pool = ThreadPoolExecutor(self.max_threads, "stepwell-store")
                self._pool_pid = os.getpid()
            return self._pool

    def _save_one(self, payload: Payload) -> BlobRef:
        buffers = as_buffers(payload)
        size = sum(len(buffer) for buffer in buffers)
        key = fmt.hash_buffers(buffers, size)
        object_key = self.object_key(key)
        if self.storage.exists(object_key):
            self._cache_put(object_key, buffers, size)
            return BlobRef(key, size, written=False)
        level = self.compression_level
        if level is not None and self._compresses() and fmt.should_compress(buffers, size):
            body: list[bytes | memoryview] = [
                fmt.pack_header(fmt.CODEC_ZSTD, size),
                fmt.compress(buffers, size, level),
            ]
        else:
            body = [fmt.pack_header(fmt.CODEC_NONE, size), *buffers]
        self.storage.save_bytes(object_key, body, overwrite=False)
        self._cache_put(object_key, buffers, size)
        return BlobRef(key, size)

    def _cache_put(self, object_key: str, buffers: Sequence[memoryview], size: int) -> None:
        """Keep a raw copy on this machine (best effort: a full disk only costs speed)."""
        if self.cache is None or self.cache.exists(object_key):
            return
        with contextlib.suppress(StorageError):
            self.cache.save_bytes(object_key, [fmt.pack_header(fmt.CODEC_NONE, size), *buffers])

    def _cached(self, object_key: str, key: str, context: str, verify: bool) -> BlobBuffer | None:
        """The payload from this machine's cache, or None (absent, or damaged and dropped)."""
        assert self.cache is not None
        try:
            mapped = self._mapped(self.cache, object_key, key, context)
            data = self._read(self.cache, object_key, key, context) if mapped is None else mapped
            if verify and fmt.hash_buffers([memoryview(data)], len(data)) != key:
                raise fmt.corrupt(key, context, "its cached copy is damaged")
        except BlobNotFoundError:
            return None
        except StorageError:  # damaged (CorruptBlobError) or unreadable: read it again
            self.cache.delete(object_key)
            return None
        path = self.cache.local_path(object_key)
        if path is not None:  # recently used: pruned last
            with contextlib.suppress(OSError):
                os.utime(path)
        return data

    def _compresses(self) -> bool:
        return self.compress_local or self.storage.is_remote

    def load_blob(self, key: str, *, verify: bool = True, context: str = "") -> BlobBuffer:
        """Return the payload of blob ``key``.

        A large uncompressed blob on local storage comes back as a ``memoryview``
        over a copy-on-write memory map of the file (no copy until written; the
        map lives as long as the view or anything built on it); anything else as
        a ``bytearray`` (or a view of one the backend returned: never copied
        again). Either way the buffer is writable, so arrays built on it
        can be modified in place like any other value, and the file never is.
        With ``verify`` the payload is re-hashed and a mismatch raises
        :class:`~stepwell.exceptions.CorruptBlobError` naming the key and
        ``context`` (e.g. ``"artifact 'model' of task TrainFlow/12/train/3"``).
        """
        object_key = self.object_key(key)
        if self.cache is not None:
            cached = self._cached(object_key, key, context, verify)
            if cached is not None:
                return cached
        mapped = self._mapped(self.storage, object_key, key, context)
        data: BlobBuffer = (
            self._read(self.storage, object_key, key, context) if mapped is None else mapped
        )
        if verify:
            actual = fmt.hash_buffers([memoryview(data)], len(data))
            if actual != key:
                raise fmt.corrupt(key, context, f"its content hashes to {actual}")
        if self.cache is not None:
            self._cache_put(object_key, [memoryview(data).cast("B")], len(data))
        return data

    def _read(
        self, storage: Storage, object_key: str, key: str, context: str
    ) -> bytearray | memoryview:
        try:
            blob = storage.load_bytes(object_key)
        except BlobNotFoundError:
            raise self._not_found(key, context) from None
        codec, raw_size = fmt.unpack_header(blob, key, context)
        body = memoryview(blob)[fmt.HEADER_SIZE :]
        if codec == fmt.CODEC_ZSTD:
            return fmt.decompress(body, raw_size, key, context)  # a new bytearray: no copy
        if len(body) != raw_size:
            raise fmt.corrupt(key, context, f"it holds {len(body)} bytes, expected {raw_size}")
        if isinstance(blob, bytearray):  # already a private, writable copy (e.g. from S3)
            return body
        return bytearray(body)

    def _mapped(
        self, storage: Storage, object_key: str, key: str, context: str
    ) -> memoryview | None:
        """The payload as a view of a memory map, or None where that does not apply."""
        path = storage.local_path(object_key)
        if path is None:
            return None
        try:
            with open(path, "rb") as f:
                file_size = os.fstat(f.fileno()).st_size
                if file_size < fmt.HEADER_SIZE + self.mmap_threshold:
                    return None
                mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise self._not_found(key, context) from None
        except OSError as err:
            raise StorageError(f"Could not read blob {key!r} at {path}: {err}", key=key) from err
        codec, raw_size = fmt.unpack_header(mapped[: fmt.HEADER_SIZE], key, context)
        if codec != fmt.CODEC_NONE:
            mapped.close()
            return None
        if file_size - fmt.HEADER_SIZE != raw_size:
            mapped.close()
            raise fmt.corrupt(key, context, f"it holds {file_size} bytes, expected {raw_size}")
        return memoryview(mapped)[fmt.HEADER_SIZE :]

    def _not_found(self, key: str, context: str) -> BlobNotFoundError:
        where = f" ({context})" if context else ""
        return BlobNotFoundError(
            f"Blob {key!r}{where} is not in {self.storage!r}.\n"
            "It may have been garbage-collected or never written; re-run the task that "
            "produced it.",
            key=key,
            context=context,
        )


#: Below this many bytes in one call, blobs are written in the calling thread.
_PARALLEL_MIN_BYTES = 4 << 20


def _total_size(payloads: Sequence[Payload]) -> int:
    return sum(sum(len(b) for b in as_buffers(p)) for p in payloads)


def open_content_store(
    url: str, *, cache_root: os.PathLike[str] | str | None = None, endpoint_url: str | None = None
) -> ContentStore:
    """The content store of the datastore at ``url`` (a directory or ``s3://bucket/prefix``).

    A remote datastore gets this machine's blob cache under ``cache_root`` (None: no cache).
    """
    from stepwell.store._local import LocalStorage
    from stepwell.store._storage import open_storage

    storage = open_storage(url, endpoint_url=endpoint_url)
    cache = None
    if storage.is_remote and cache_root is not None:
        cache = LocalStorage(os.fspath(cache_root))
    return ContentStore(storage, cache=cache)


def prune_cache(root: os.PathLike[str] | str, max_bytes: int) -> int:
    """Delete the least recently used cached blobs under ``root`` until at most
    ``max_bytes`` remain; return the bytes freed. Safe while others read and write:
    a reader keeps an open map, and a blob removed early is downloaded again."""
    from pathlib import Path

    files = []
    for path in Path(root).glob("objects/*/*"):
        try:
            stat = path.stat()
        except OSError:
            continue
        files.append((stat.st_mtime, stat.st_size, path))
    total = sum(size for _, size, _ in files)
    freed = 0
    for _, size, path in sorted(files):
        if total - freed <= max_bytes:
            break
        try:
            path.unlink()
            freed += size
        except OSError:
            pass
    return freed
