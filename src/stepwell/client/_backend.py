"""Where the Client API reads from: the metadata and artifact stores, opened once per process.

The backend is built from :func:`stepwell.config.load_settings` on first use
and kept; it is rebuilt only when a setting's environment variable or the
working directory changes (they decide the settings), so a test that points
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
    """The stores of one STEPWELL_HOME, each opened on first use.

    Artifacts, cards, logs and code packages are read from the datastore each
    run recorded (``RunRecord.datastore``: a local directory or
    ``s3://bucket/prefix``), so a run made on S3 reads back from S3 whatever
    this process's own datastore setting is. ``datastore`` is where runs that
    recorded none (made before stepwell recorded it) are read from.
    """

    def __init__(
        self,
        home: Path,
        username: str,
        datastore: str | None = None,
        s3_endpoint_url: str | None = None,
        cache: bool = True,
        metadata: str = "local",
        metadata_source: str | None = None,
    ) -> None:
        self.home = home
        self.metadata_url = metadata
        self.metadata_source = metadata_source
        self.username = username
        self.datastore = datastore or str(home)
        self.s3_endpoint_url = s3_endpoint_url
        self.cache_root = home / "cache" if cache else None  # for remote datastores
        self.cache = ArtifactCache()
        self._metadata: Any = None
        self._stores: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def metadata(self) -> Any:
        """The :class:`~stepwell.metadata.MetadataStore`: SQLite in ``home``, or PostgreSQL."""
        if self._metadata is None:
            from stepwell.metadata import open_metadata

            with self._lock:
                if self._metadata is None:
                    self._metadata = open_metadata(
                        self.metadata_url, home=self.home, source=self.metadata_source
                    )
        return self._metadata

    @property
    def store(self) -> Any:
        """The :class:`~stepwell.store.ContentStore` of this process's own datastore."""
        return self.store_at(self.datastore)

    def store_for(self, run: Any) -> Any:
        """The content store holding ``run``'s blobs (a ``RunRecord``; None: the default)."""
        return self.store_at(getattr(run, "datastore", None) or self.datastore)

    def store_at(self, url: str) -> Any:
        """The content store at a datastore URL, opened once per process."""
        store = self._stores.get(url)
        if store is None:
            from stepwell.store import open_content_store

            with self._lock:
                store = self._stores.get(url)
                if store is None:
                    store = self._stores[url] = open_content_store(
                        url, cache_root=self.cache_root, endpoint_url=self.s3_endpoint_url
                    )
        return store

    def load_artifact(self, record: Any, context: str, run: Any = None) -> Any:
        """The value of an ``ArtifactRecord`` of ``run``, from the cache or the run's store."""
        found, value = self.cache.get(record.key)
        if found:
            return value
        from stepwell.store import ArtifactRef, load_artifact

        ref = ArtifactRef.from_record(record)
        store = None if ref.is_inline else self.store_for(run)  # inline: no store to open
        value = load_artifact(store, ref, context=context)
        self.cache.put(record.key, value, record.size)
        return value

    def close(self) -> None:
        if self._metadata is not None:
            self._metadata.close()
        for store in self._stores.values():
            store.close()


class _Holder:
    __slots__ = ("backend", "key", "metadata")

    def __init__(self) -> None:
        self.backend: Backend | None = None
        self.key: tuple[str | None, ...] = ()
        # metadata(...) in this process: (url, home) replacing the settings' ones
        self.metadata: tuple[str, str | None] | None = None


_HOLDER = _Holder()


def _settings_key() -> tuple[str | None, ...]:
    env = os.environ
    try:
        cwd: str | None = os.getcwd()
    except OSError:
        cwd = None
    from stepwell.config import setting_variables

    chosen = _HOLDER.metadata or (None, None)
    return (*(env.get(name) for name in setting_variables()), cwd, *chosen)


def get_backend() -> Backend:
    """The process's backend, built from the settings on first use."""
    key = _settings_key()
    backend = _HOLDER.backend
    if backend is None or _HOLDER.key != key:
        from stepwell.config import load_settings

        settings = load_settings()
        if backend is not None:
            backend.close()
        url, home = _HOLDER.metadata or (settings.metadata, None)
        backend = Backend(
            Path(home or settings.home),
            settings.username,
            None if home else _default_datastore(settings),
            settings.s3_endpoint_url,
            cache=settings.cache_bytes > 0,
            metadata=url,
            metadata_source="metadata()" if _HOLDER.metadata else settings.source("metadata"),
        )
        _HOLDER.backend, _HOLDER.key = backend, key
    return backend


def _default_datastore(settings: Any) -> str | None:
    """This process's datastore; a bad setting is reported when a run is made, not here."""
    from stepwell.exceptions import ConfigError

    try:
        return str(settings.datastore_url)
    except ConfigError:
        return None


def reset_client() -> None:
    """Forget the backend (stores, artifact cache) and go back to the default namespace.

    For tests, and for a process that changed its settings in a way the
    backend cannot see (a ``stepwell.toml`` edited in place).
    """
    from stepwell.client._namespace import STATE

    if _HOLDER.backend is not None:
        _HOLDER.backend.close()
    _HOLDER.backend, _HOLDER.key, _HOLDER.metadata = None, (), None
    STATE.reset()


def choose_metadata(url: str | None, home: str | None = None) -> None:
    """Read from metadata ``url`` (and a local ``home``) from now on; None: the settings'."""
    _HOLDER.metadata = None if url is None else (url, home)
