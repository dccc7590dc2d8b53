"""S3Storage: the Storage SPI on an S3-compatible bucket (AWS, MinIO, Ceph...), via obstore."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from stepwell.exceptions import BlobNotFoundError, StorageError
from stepwell.store._s3conn import (
    S3Options,
    S3Url,
    check_fork_safe,
    explain,
    import_obstore,
    open_store,
)
from stepwell.store._storage import (
    BlobData,
    BlobInfo,
    Storage,
    as_buffers,
    validate_key,
    validate_prefix,
)

#: Objects at least this big are written in parts and read with parallel range requests.
MULTIPART_BYTES = 16 << 20
PART_BYTES = 8 << 20
#: Concurrent requests for one large object.
MAX_CONCURRENCY = 8


class S3Storage(Storage):
    """Blobs as objects under ``s3://bucket/prefix``; key ``a/b`` is object ``prefix/a/b``.

    A PUT (or a multipart upload, completed only once every part is in) is
    atomic on S3, so readers never see part of a blob and a crash mid-upload
    leaves nothing under the key. ``overwrite=False`` writes conditionally
    (``If-None-Match``) so the first writer of a key wins and the others
    succeed. Throttling, 5xx and connection errors are retried with
    exponential backoff for up to ``STEPWELL_S3_RETRY_SECONDS`` (120 s).

    Example:
        >>> store = S3Storage("s3://my-bucket/stepwell")  # doctest: +SKIP
        >>> store.save_bytes("runs/1/params", b"...")  # doctest: +SKIP
    """

    def __init__(
        self,
        root: str,
        *,
        endpoint_url: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.url = S3Url.parse(root, what="datastore root")
        import_obstore()  # a missing client library is reported now, not at the first request
        self.options = S3Options.from_env(env, endpoint_url=endpoint_url)
        self._env = env
        self._store: Any = None
        self._store_pid = 0

    def __repr__(self) -> str:
        return f"S3Storage({str(self.url)!r})"

    @property
    def root_url(self) -> str:
        return str(self.url)

    # -- plumbing -----------------------------------------------------------------------
    def _client(self) -> Any:
        import os

        check_fork_safe()
        if self._store is None or self._store_pid != os.getpid():
            self._store = open_store(self.url, self.options, env=self._env)
            self._store_pid = os.getpid()
        return self._store

    def _error(self, err: BaseException, key: str, verb: str) -> StorageError:
        return StorageError(
            f"Could not {verb} {key!r} in {self.url}: {explain(err, self.url, self.options)}",
            key=key,
        )

    def _not_found(self, key: str) -> BlobNotFoundError:
        return BlobNotFoundError(f"No blob with key {key!r} in {self.url}.", key=key)

    def check(self) -> None:
        """Fail fast, with one message naming what to check, if the bucket cannot be used."""
        import obstore

        check_fork_safe()
        probe = open_store(self.url, self.options, env=self._env, fast_fail=True)
        try:
            next(iter(obstore.list(probe, chunk_size=1)), None)
        except Exception as err:
            raise StorageError(explain(err, self.url, self.options)) from None

    # -- the SPI ------------------------------------------------------------------------
    def save_bytes(self, key: str, data: BlobData, *, overwrite: bool = False) -> None:
        import obstore
        from obstore.exceptions import AlreadyExistsError

        validate_key(key)
        buffers = as_buffers(data)
        size = sum(len(b) for b in buffers)
        store = self._client()
        try:
            if size >= MULTIPART_BYTES:
                if not overwrite and self.exists(key):
                    return
                obstore.put(
                    store, key, _chunks(buffers, PART_BYTES), use_multipart=True,
                    chunk_size=PART_BYTES, max_concurrency=MAX_CONCURRENCY,
                )  # fmt: skip
                return
            body = buffers[0] if len(buffers) == 1 else b"".join(buffers)
            if overwrite:
                obstore.put(store, key, body, mode="overwrite", use_multipart=False)
            else:
                obstore.put(store, key, body, mode="create", use_multipart=False)
        except AlreadyExistsError:
            return  # another writer was first: its blob stays
        except Exception as err:
            raise self._error(err, key, "write") from None

    def load_bytes(self, key: str) -> bytes | bytearray:
        import obstore

        validate_key(key)
        store = self._client()
        try:
            # One ranged GET: a small object whole, or a large one's first part and its
            # size (never a whole-object GET dropped after its headers, which the
            # server would still send and the connection could not be reused after).
            try:
                result = obstore.get(store, key, options={"range": (0, PART_BYTES)})
            except Exception as err:
                if "416" not in str(err) and "InvalidRange" not in str(err):
                    raise
                return bytearray(obstore.get(store, key).bytes())  # empty: no range to satisfy
            size = int(result.meta["size"])
            first = result.bytes()
            if len(first) >= size:
                return bytearray(first)  # writable: the content store uses it without a copy
            return self._load_ranges(store, key, size, first)
        except FileNotFoundError:
            raise self._not_found(key) from None
        except Exception as err:
            raise self._error(err, key, "read") from None

    def _load_ranges(self, store: Any, key: str, size: int, first: Any) -> bytearray:
        """The rest of a large object by parallel range requests, after its ``first`` bytes.

        At most MAX_CONCURRENCY requests (parts of at least PART_BYTES): one round.
        """
        import obstore

        out = bytearray(size)
        view = memoryview(out)
        done = len(first)
        view[:done] = first
        part = max(PART_BYTES, -(-(size - done) // MAX_CONCURRENCY))
        starts = range(done, size, part)

        def fetch(start: int) -> None:
            end = min(start + part, size)
            view[start:end] = obstore.get_range(store, key, start=start, end=end)

        with ThreadPoolExecutor(min(MAX_CONCURRENCY, len(starts)), "stepwell-s3-get") as pool:
            list(pool.map(fetch, starts))
        return out

    def exists(self, key: str) -> bool:
        try:
            self.info(key)
        except BlobNotFoundError:
            return False
        return True

    def info(self, key: str) -> BlobInfo:
        import obstore

        validate_key(key)
        try:
            meta = obstore.head(self._client(), key)
        except FileNotFoundError:
            raise self._not_found(key) from None
        except Exception as err:
            raise self._error(err, key, "look up") from None
        modified = meta["last_modified"]
        when = modified.timestamp() if isinstance(modified, _dt.datetime) else float(modified)
        version = str(meta.get("e_tag") or meta.get("version") or "")
        return BlobInfo(key=key, size=int(meta["size"]), modified=when, version=version)

    def move(self, key: str, new_key: str) -> None:
        """A server-side copy, then a delete of ``key`` (S3 has no rename): no bytes travel
        through this machine, and for a moment the blob is at both keys."""
        import obstore

        validate_key(key)
        validate_key(new_key)
        store = self._client()
        try:
            obstore.copy(store, key, new_key, overwrite=True)
        except FileNotFoundError:
            raise self._not_found(key) from None
        except Exception as err:
            raise self._error(err, key, f"move to {new_key!r}") from None
        self.delete(key)

    def delete(self, key: str) -> None:
        import obstore

        validate_key(key)
        try:
            obstore.delete(self._client(), key)
        except FileNotFoundError:
            pass
        except Exception as err:
            raise self._error(err, key, "delete") from None

    def list(self, prefix: str = "") -> Iterator[str]:
        import obstore

        validate_prefix(prefix)
        # object_store lists whole path segments; list the enclosing "directory" and
        # filter by the plain string prefix the SPI promises.
        directory = prefix.rpartition("/")[0]
        try:
            for batch in obstore.list(self._client(), prefix=directory or None):
                for meta in batch:
                    path = meta["path"]
                    if path.startswith(prefix):
                        yield path
        except Exception as err:
            raise self._error(err, prefix or "(all keys)", "list") from None


def _chunks(buffers: list[memoryview], size: int) -> Iterator[memoryview]:
    """The buffers cut into pieces of at most ``size`` bytes (no copies)."""
    for buffer in buffers:
        for start in range(0, len(buffer), size):
            yield buffer[start : start + size]
