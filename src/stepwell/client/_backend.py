"""Where the Client API reads from: the metadata and artifact stores, opened once per process.

The backend is built from :func:`stepwell.config.load_settings` on first use
and kept; it is rebuilt only when ``STEPWELL_HOME``, ``STEPWELL_USER`` or the
working directory change (they decide the settings), so a test that points
``STEPWELL_HOME`` elsewhere reads the new store. :func:`reset_client` drops it
and the namespace.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

#: Artifact values kept per process, by blob key, up to this many serialized bytes.
CACHE_BYTES = 256 << 20


class ArtifactCache:
    """Loaded artifact values by blob key, least recently used dropped first."""

    def __init__(self, budget: int = CACHE_BYTES) -> None:
        self.budget = budget
        self._values: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[bool, Any]:
        with self._lock:
            if key not in self._values:
                return False, None
            self._values.move_to_end(key)
            return True, self._values[key][0]

    def put(self, key: str, value: Any, size: int) -> None:
        if size > self.budget:
            return
        with self._lock:
            if key in self._values:
                return
            self._values[key] = (value, size)
            self._size += size
            while self._size > self.budget:
                _, (_, dropped) = self._values.popitem(last=False)
                self._size -= dropped

    def __len__(self) -> int:
        return len(self._values)


class Backend:
    """The stores of one STEPWELL_HOME, each opened on first use."""

    def __init__(self, home: Path, username: str) -> None:
        self.home = home
        self.username = username
        self.cache = ArtifactCache()
        self._metadata: Any = None
        self._store: Any = None
        self._lock = threading.Lock()

    @property
    def metadata(self) -> Any:
        """The :class:`~stepwell.metadata.MetadataStore` (SQLite, ``<home>/stepwell.db``)."""
        if self._metadata is None:
            from stepwell.metadata import SqliteMetadataStore

            with self._lock:
                if self._metadata is None:
                    self._metadata = SqliteMetadataStore(self.home / "stepwell.db")
        return self._metadata

    @property
    def store(self) -> Any:
        """The :class:`~stepwell.store.ContentStore` of artifact blobs."""
        if self._store is None:
            from stepwell.store import ContentStore, LocalStorage

            with self._lock:
                if self._store is None:
                    self._store = ContentStore(LocalStorage(self.home))
        return self._store

    def load_artifact(self, record: Any, context: str) -> Any:
        """The value of an ``ArtifactRecord``, from the cache or the store."""
        found, value = self.cache.get(record.key)
        if found:
            return value
        from stepwell.store import ArtifactRef, load_artifact

        value = load_artifact(self.store, ArtifactRef.from_record(record), context=context)
        self.cache.put(record.key, value, record.size)
        return value

    def close(self) -> None:
        if self._metadata is not None:
            self._metadata.close()
        if self._store is not None:
            self._store.close()


class _Holder:
    __slots__ = ("backend", "key")

    def __init__(self) -> None:
        self.backend: Backend | None = None
        self.key: tuple[str | None, ...] = ()


_HOLDER = _Holder()


def _settings_key() -> tuple[str | None, ...]:
    env = os.environ
    try:
        cwd: str | None = os.getcwd()
    except OSError:
        cwd = None
    return (env.get("STEPWELL_HOME"), env.get("STEPWELL_USER"), cwd)


def get_backend() -> Backend:
    """The process's backend, built from the settings on first use."""
    key = _settings_key()
    backend = _HOLDER.backend
    if backend is None or _HOLDER.key != key:
        from stepwell.config import load_settings

        settings = load_settings()
        if backend is not None:
            backend.close()
        backend = Backend(Path(settings.home), settings.username)
        _HOLDER.backend, _HOLDER.key = backend, key
    return backend


def reset_client() -> None:
    """Forget the backend (stores, artifact cache) and go back to the default namespace.

    For tests, and for a process that changed its settings in a way the
    backend cannot see (a ``stepwell.toml`` edited in place).
    """
    from stepwell.client._namespace import STATE

    if _HOLDER.backend is not None:
        _HOLDER.backend.close()
    _HOLDER.backend, _HOLDER.key = None, ()
    STATE.reset()
