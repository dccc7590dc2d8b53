"""Test doubles for the store tests: an in-memory backend and a call-counting wrapper."""

from __future__ import annotations

import collections
import pathlib
import threading
import time
from collections.abc import Iterator

from stepwell.exceptions import BlobNotFoundError
from stepwell.store import BlobData, BlobInfo, Storage, validate_key
from stepwell.store._storage import as_buffers, validate_prefix


class MemoryStorage(Storage):
    """A dict-backed Storage: what a non-local backend (no local_path) looks like."""

    def __init__(self) -> None:
        self._blobs: dict[str, tuple[bytes, float]] = {}
        self._lock = threading.Lock()

    def save_bytes(self, key: str, data: BlobData, *, overwrite: bool = False) -> None:
        blob = b"".join(as_buffers(data))
        with self._lock:
            if overwrite or validate_key(key) not in self._blobs:
                self._blobs[key] = (blob, time.time())

    def load_bytes(self, key: str) -> bytes:
        try:
            return self._blobs[validate_key(key)][0]
        except KeyError:
            raise BlobNotFoundError(f"No blob with key {key!r}.", key=key) from None

    def exists(self, key: str) -> bool:
        return validate_key(key) in self._blobs

    def list(self, prefix: str = "") -> Iterator[str]:
        validate_prefix(prefix)
        return iter(sorted(k for k in list(self._blobs) if k.startswith(prefix)))

    def info(self, key: str) -> BlobInfo:
        blob, modified = self._blobs.get(validate_key(key), (None, 0.0))
        if blob is None:
            raise BlobNotFoundError(f"No blob with key {key!r}.", key=key)
        return BlobInfo(key, len(blob), modified)

    def delete(self, key: str) -> None:
        with self._lock:
            self._blobs.pop(validate_key(key), None)


class CountingStorage(Storage):
    """Wraps a Storage, counting calls per method and the threads that saved."""

    def __init__(self, inner: Storage) -> None:
        self.inner = inner
        self.calls: collections.Counter[str] = collections.Counter()
        self.saving_threads: set[str] = set()

    def save_bytes(self, key: str, data: BlobData, *, overwrite: bool = False) -> None:
        self.calls["save_bytes"] += 1
        self.saving_threads.add(threading.current_thread().name)
        time.sleep(0.01)  # long enough for the other pool threads to pick up work
        self.inner.save_bytes(key, data, overwrite=overwrite)

    def load_bytes(self, key: str) -> bytes:
        self.calls["load_bytes"] += 1
        return self.inner.load_bytes(key)

    def local_path(self, key: str) -> pathlib.Path | None:
        self.calls["local_path"] += 1
        return self.inner.local_path(key)

    def exists(self, key: str) -> bool:
        self.calls["exists"] += 1
        return self.inner.exists(key)

    def list(self, prefix: str = "") -> Iterator[str]:
        self.calls["list"] += 1
        return self.inner.list(prefix)

    def info(self, key: str) -> BlobInfo:
        self.calls["info"] += 1
        return self.inner.info(key)

    def delete(self, key: str) -> None:
        self.calls["delete"] += 1
        self.inner.delete(key)

    def reads(self) -> int:
        return self.calls["load_bytes"] + self.calls["local_path"]
