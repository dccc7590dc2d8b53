"""ContentStore: blobs addressed by the BLAKE3 hash of their uncompressed bytes.

Integrity (see ``_integrity``): a blob found corrupt on read is quarantined (moved
to ``quarantine/``, so it no longer counts as stored) and the error says so; a
save of content whose key is stored checks the stored copy first (its size and
"verified" stamp, or its hash when it was never verified) and quarantines and
rewrites a damaged one.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from stepwell.exceptions import BlobNotFoundError, CorruptBlobError, StorageError
from stepwell.store import _blobformat as fmt
from stepwell.store import _integrity as integrity
from stepwell.store._integrity import BlobCheck, QuarantineNote
from stepwell.store._storage import BlobData, BlobInfo, Storage, as_buffers

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    from stepwell.store._unwritten import MappedBlobs

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

    A blob of ``storage`` found corrupt on read is quarantined (:meth:`quarantine`)
    before the error is raised, so the next save of its content stores it again;
    a save of content already stored checks the stored copy (cheaply when it was
    verified before) and quarantines and rewrites it when it is damaged.
    ``clock`` (seconds since the epoch) dates quarantine notes.

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
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.storage = storage
        self.cache = cache
        self.clock = clock
        #: object key -> fingerprint of a stored copy this process found whole
        self._trusted: dict[str, str] = {}
        self.max_threads = max_threads or min(16, (os.cpu_count() or 1) + 4)
        self.compression_level = compression_level
        self.compress_local = compress_local
        self.mmap_threshold = mmap_threshold
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = 0
        #: the large verified blobs handed out as maps (saved again unwritten, they need no
        #: hashing); made by the first one
        self._mapped_blobs: MappedBlobs | None = None
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
        maps = self._mapped_blobs
        key = (maps and maps.key_of(buffers, size)) or fmt.hash_buffers(buffers, size)
        object_key = self.object_key(key)
        stored = self._stored_copy(object_key, key, size)
        if stored is True:
            self._keep_alive(object_key, size)
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
        with self._caching(object_key, buffers, size):
            # None: a damaged copy could not be moved aside, so it is replaced in place
            self.storage.save_bytes(object_key, body, overwrite=stored is None)
            if size >= integrity.STAMP_MIN_BYTES:  # hashed on the way in: verified
                with contextlib.suppress(StorageError):
                    self._stamp(object_key, self.storage.info(object_key))
        return BlobRef(key, size)

    @contextlib.contextmanager
    def _caching(self, object_key: str, buffers: Sequence[memoryview], size: int) -> Iterator[None]:
        """Keep a raw copy in this machine's cache of the blob the block uploads.

        A large blob's copy is written on a thread of its own during the upload, which
        mostly waits on the network (or the server), so the local write adds little
        time. Not during compression: that keeps every core busy (measured: no gain).
        """
        if self.cache is None or size < _OVERLAP_CACHE_BYTES:
            yield
            self._cache_put(object_key, buffers, size)  # after the upload succeeded
            return
        # The thread is joined before the save returns: none outlives it (nor a fork).
        writer = threading.Thread(
            target=self._cache_put, args=(object_key, buffers, size), name="stepwell-cache"
        )
        writer.start()
        try:
            yield
        finally:
            writer.join()

    def _stored_copy(self, object_key: str, key: str, size: int) -> bool | None:
        """Whether a whole copy of the payload is stored: True (keep it), False (absent,
        or damaged and quarantined: write it) or None (damaged or unreadable, and still
        there: replace it)."""
        try:
            info = self.storage.info(object_key)
        except BlobNotFoundError:
            return False
        fingerprint = integrity.fingerprint(info)
        if info.size > fmt.HEADER_SIZE + size or info.size < fmt.HEADER_SIZE:
            check = BlobCheck(key, "damaged", f"it holds {info.size} bytes for a payload of {size}")
        elif self._trusted.get(object_key) == fingerprint:
            return True
        elif size >= integrity.STAMP_MIN_BYTES and (
            integrity.read_stamp(self.storage, object_key) == fingerprint
        ):
            self._remember(object_key, fingerprint)
            return True
        else:
            check = self._check(object_key, key, info)
        if check.ok:
            if size >= integrity.STAMP_MIN_BYTES:
                self._stamp(object_key, info)
            self._remember(object_key, fingerprint)
            return True
        if check.status == "missing":  # quarantined or deleted meanwhile: write it
            return False
        if check.status != "damaged":  # unreadable: replace it with these whole bytes
            return None
        try:
            self.quarantine(key, check.reason, by="save")
        except StorageError:
            return None
        return False

    def _keep_alive(self, object_key: str, size: int) -> None:
        """A stored blob is about to be referenced again: make it recent for ``stepwell gc``.

        gc keeps every blob modified within its grace period (it may be referenced by a
        run still writing), so the blob's time is set to now; at most once a minute, so
        a foreach storing one value a thousand times touches it once. Where the backend
        cannot (S3), see gc's limits.
        """
        if self.storage.is_remote:
            return
        try:
            info = self.storage.info(object_key)
            if time.time() - info.modified < _KEEP_ALIVE_SECONDS:
                return
            self.storage.touch(object_key)
            info = self.storage.info(object_key)
        except StorageError:  # gone meanwhile: the next save writes it
            return
        if size >= integrity.STAMP_MIN_BYTES:
            self._stamp(object_key, info)  # it was trusted a moment ago: still is, at its new time
        else:
            self._remember(object_key, integrity.fingerprint(info))

    def _remember(self, object_key: str, fingerprint: str) -> None:
        if len(self._trusted) >= _TRUSTED_MAX:
            self._trusted.clear()
        self._trusted[object_key] = fingerprint

    def _stamp(self, object_key: str, info: BlobInfo) -> None:
        integrity.write_stamp(self.storage, object_key, info)
        self._remember(object_key, integrity.fingerprint(info))

    def check_blob(self, key: str, *, stamp: bool = True) -> BlobCheck:
        """Read blob ``key`` from the storage (never the cache) and say whether it is whole.

        Its header, its size and its hash are checked. A local uncompressed blob is
        read in large chunks, never held whole. With ``stamp`` a whole blob of at
        least :data:`~stepwell.store._integrity.STAMP_MIN_BYTES` is stamped verified,
        so later saves of its content need not hash it again.
        """
        object_key = self.object_key(key)
        try:
            info = self.storage.info(object_key)
        except BlobNotFoundError:
            return BlobCheck(key, "missing", "it is not in the datastore")
        except StorageError as err:
            return BlobCheck(key, "unreadable", err.message.splitlines()[0])
        check = self._check(object_key, key, info)
        if check.ok and stamp and (check.size or 0) >= integrity.STAMP_MIN_BYTES:
            self._stamp(object_key, info)
        return check

    def _check(self, object_key: str, key: str, info: BlobInfo) -> BlobCheck:
        fingerprint = integrity.fingerprint(info)
        try:
            path = self.storage.local_path(object_key)
            hashed = integrity.hash_raw_file(path, key) if path is not None else None
            if hashed is None:
                data = self._read(self.storage, object_key, key, "")
                hashed = fmt.hash_buffers([memoryview(data)], len(data)), len(data)
        except CorruptBlobError as err:
            return BlobCheck(key, "damaged", integrity.reason_of(err), None, info.size)
        except BlobNotFoundError:
            return BlobCheck(key, "missing", "it is not in the datastore")
        except StorageError as err:
            return BlobCheck(key, "unreadable", err.message.splitlines()[0], None, info.size)
        digest, size = hashed
        if digest != key:
            reason = f"its content hashes to {digest}"
            return BlobCheck(key, "damaged", reason, size, info.size, fingerprint)
        return BlobCheck(key, "ok", "", size, info.size, fingerprint)

    def quarantine(
        self, key: str, reason: str, *, by: str = "read", uses: Sequence[str] = (),
        note_missing: bool = False,
    ) -> QuarantineNote | None:  # fmt: skip
        """Move blob ``key`` to ``quarantine/`` with a note saying why, when and who found it
        (``by``: ``read``, ``save`` or ``verify``) and which artifacts used it (``uses``).

        Afterwards the key is absent: the next save of its content writes it again, and
        a read says it was quarantined. Returns the note, or None when the blob was not
        there (already moved by another process); with ``note_missing`` a note records
        then that it was found missing. This machine's cached copy is kept (it is
        verified whenever it is read).
        """
        object_key = self.object_key(key)
        self._trusted.pop(object_key, None)
        return integrity.quarantine(
            self.storage, key, reason=reason, by=by, now=self.clock(), uses=tuple(uses),
            note_missing=note_missing,
        )  # fmt: skip

    def quarantine_notes(self, key: str) -> list[QuarantineNote]:
        """Why blob ``key`` was quarantined or found missing, oldest first (usually empty)."""
        self.object_key(key)  # a valid key
        return integrity.quarantine_notes(self.storage, key)

    def restore_from_cache(self, key: str) -> bool:
        """Store blob ``key`` again from this machine's cache when the cache holds a whole
        copy (a remote datastore's blob that was quarantined or lost); True when it did."""
        if self.cache is None:
            return False
        object_key = self.object_key(key)
        payload = self._cached(object_key, key, "", verify=True)
        if payload is None:
            return False
        self.save_blobs([payload])
        return True

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
                return self._noted(cached, key, verify)
        try:
            mapped = self._mapped(self.storage, object_key, key, context)
            data: BlobBuffer = (
                self._read(self.storage, object_key, key, context) if mapped is None else mapped
            )
            if verify:
                actual = fmt.hash_buffers([memoryview(data)], len(data))
                if actual != key:
                    raise fmt.corrupt(key, context, f"its content hashes to {actual}")
        except CorruptBlobError as err:
            raise self._quarantined(key, context, err) from None
        except BlobNotFoundError as err:
            raise self._missing(key, context, err) from None
        if self.cache is not None:
            self._cache_put(object_key, [memoryview(data).cast("B")], len(data))
        return self._noted(data, key, verify)

    def _noted(self, data: BlobBuffer, key: str, verified: bool) -> BlobBuffer:
        """``data``, noted among the mapped blobs when it is a verified map."""
        if verified and isinstance(data, memoryview) and isinstance(data.obj, mmap.mmap):
            with self._lock:
                if self._mapped_blobs is None:
                    from stepwell.store._unwritten import MappedBlobs

                    self._mapped_blobs = MappedBlobs()
            self._mapped_blobs.add(data.obj, fmt.HEADER_SIZE, key, len(data))
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

    def _quarantined(self, key: str, context: str, err: CorruptBlobError) -> CorruptBlobError:
        """Quarantine a blob found corrupt on read; the error to raise says where it went."""
        reason = integrity.reason_of(err)
        try:
            note = self.quarantine(key, reason, by="read", uses=(context,) if context else ())
        except StorageError as failed:
            after = f"It could not be moved to quarantine ({failed.message.splitlines()[0]}); "
        else:
            moved = f" to {note.moved_to}" if note is not None else ""
            after = (f"stepwell moved it{moved} (quarantine), so the next run that computes "
                     "this value stores it again: ")  # fmt: skip
        headline = err.message.splitlines()[0] if err.message else f"Blob {key!r} is corrupt."
        return CorruptBlobError(
            f"{headline}\nThe stored bytes changed after they were written. {after}"
            "re-run the task that produced it.",
            key=key,
            context=context,
        )

    def _missing(self, key: str, context: str, err: BlobNotFoundError) -> BlobNotFoundError:
        """The not-found error, saying when and why the blob was quarantined if it was."""
        notes = integrity.quarantine_notes(self.storage, key)
        if not notes:
            return err
        where = f" ({context})" if context else ""
        return BlobNotFoundError(
            f"Blob {key!r}{where} is not in {self.storage!r}: {notes[-1].describe()}.\n"
            "Its content is not in the store any more. Re-run the task that produced it: "
            "the next run that computes this value stores it again.",
            key=key,
            context=context,
        )

    def _not_found(self, key: str, context: str) -> BlobNotFoundError:
        where = f" ({context})" if context else ""
        return BlobNotFoundError(
            f"Blob {key!r}{where} is not in {self.storage!r}.\n"
            "It may have been garbage-collected or never written; re-run the task that "
            "produced it.",
            key=key,
            context=context,
        )


#: At most this many trusted fingerprints are remembered per store (then forgotten at once).
_TRUSTED_MAX = 100_000
#: A stored blob saved again is touched (for gc's grace period) when older than this.
_KEEP_ALIVE_SECONDS = 60.0
#: Below this many bytes in one call, blobs are written in the calling thread.
_PARALLEL_MIN_BYTES = 4 << 20
#: A remote blob at least this big is copied into the local cache while it uploads.
_OVERLAP_CACHE_BYTES = 8 << 20


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
