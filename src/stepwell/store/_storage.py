"""The storage SPI: a narrow byte interface over keys, and a registry of backends by name."""

from __future__ import annotations

import abc
import contextlib
import importlib
import pathlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from stepwell.exceptions import StorageError

#: Anything exposing the buffer protocol that ``memoryview()`` accepts as contiguous bytes.
BufferLike: TypeAlias = bytes | bytearray | memoryview
#: What :meth:`Storage.save_bytes` writes: one buffer, or several written back to back.
BlobData: TypeAlias = BufferLike | Sequence[BufferLike]

StorageFactory = Callable[..., "Storage"]


@dataclass(frozen=True)
class BlobInfo:
    """What a backend knows about one stored key."""

    key: str
    size: int
    modified: float  # seconds since the epoch
    #: Changes whenever the stored bytes may have changed (local: inode, mtime and ctime in
    #: ns; S3: the ETag); "" when the backend cannot tell (then ``modified`` stands in).
    version: str = ""


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe relative '/'-separated key; raise StorageError otherwise.

    Segments that start with '.' are reserved (backends keep temporary files there), which
    also rules out '.' and '..'.
    """
    problem = _key_problem(key)
    if problem:
        raise StorageError(
            f"Invalid storage key {key!r}: {problem}.\n"
            "Keys are relative paths of '/'-separated names, e.g. 'objects/ab/cdef01'.",
            key=key,
        )
    return key


def _key_problem(key: str) -> str | None:
    if not isinstance(key, str) or not key:
        return "a key must be a non-empty string"
    if "\\" in key or "\x00" in key:
        return "backslashes and NUL characters are not allowed"
    if key.startswith("/") or (len(key) > 1 and key[1] == ":"):
        return "absolute paths are not allowed"
    for segment in key.split("/"):
        if not segment:
            return "empty path segments ('//' or a trailing '/') are not allowed"
        if segment in (".", ".."):
            return "'.' and '..' segments are not allowed (no path traversal)"
        if segment.startswith("."):
            return "segments starting with '.' are reserved"
    return None


def validate_prefix(prefix: str) -> str:
    """Return ``prefix`` if it is a valid key prefix ('' lists everything)."""
    if prefix:
        validate_key(prefix.rstrip("/") or "/")
    return prefix


def as_buffers(data: BlobData) -> list[memoryview]:
    """Normalise one buffer or a sequence of buffers to flat byte memoryviews."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        parts: Sequence[Any] = [data]
    else:
        parts = data
    try:
        return [memoryview(part).cast("B") for part in parts]
    except TypeError as err:
        raise StorageError(
            f"Cannot write {type(data).__name__}: expected bytes-like buffers ({err}).",
        ) from err


class Storage(abc.ABC):
    """A flat namespace of byte blobs addressed by '/'-separated relative keys.

    Implementations validate every key with :func:`validate_key`, make writes
    atomic (a reader sees the old blob, the new one, or nothing, never a part),
    and raise :class:`~stepwell.exceptions.BlobNotFoundError` naming the key
    when a key is absent.
    """

    @abc.abstractmethod
    def save_bytes(self, key: str, data: BlobData, *, overwrite: bool = False) -> None:
        """Store ``data`` (one buffer, or buffers written back to back) under ``key``.

        With ``overwrite=False`` an existing key is left as it is and the call
        succeeds (content-addressed writers may race on one key); with
        ``overwrite=True`` the new bytes replace the old ones atomically.
        """

    @abc.abstractmethod
    def load_bytes(self, key: str) -> bytes | bytearray:
        """Return the bytes stored under ``key`` (a bytearray where that saves a copy)."""

    def local_path(self, key: str) -> pathlib.Path | None:
        """Return the file holding ``key`` if the backend is a local filesystem, else None.

        The file may not exist; callers that open it handle FileNotFoundError.
        """
        validate_key(key)
        return None

    @property
    def is_remote(self) -> bool:
        """True when blobs are not files on this machine (an object store): such storage
        gets a local blob cache, compressed blobs, and uploaded task logs."""
        return self.local_path("objects/00/remote-probe") is None

    @property
    def root_url(self) -> str:
        """Where this storage keeps its blobs: a local directory's path, or ``s3://bucket/prefix``.

        Recorded with every run, so readers open the same place.
        """
        return repr(self)

    def check(self) -> None:  # noqa: B027 - optional hook: local storage has nothing to check
        """Raise :class:`~stepwell.exceptions.StorageError` with one clear message when the
        storage cannot be used (unreachable, missing bucket, bad credentials)."""

    @abc.abstractmethod
    def exists(self, key: str) -> bool:
        """Whether a blob is stored under ``key``."""

    @abc.abstractmethod
    def list(self, prefix: str = "") -> Iterator[str]:
        """Yield every stored key that starts with ``prefix`` (a plain string prefix)."""

    @abc.abstractmethod
    def info(self, key: str) -> BlobInfo:
        """Return the size and modification time of ``key``."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``. Deleting an absent key is not an error (deletes are idempotent)."""

    def touch(self, key: str) -> None:  # noqa: B027 - optional: a no-op where times are fixed
        """Set ``key``'s modification time to now, where the backend can (a local directory).

        Garbage collection never deletes a blob modified less than its grace period
        ago, so a blob found already stored and about to be referenced again is
        touched. Object stores cannot change an object's time without rewriting it:
        there this does nothing (see the limits of ``stepwell gc``).
        """

    def move(self, key: str, new_key: str) -> None:
        """Move the blob at ``key`` to ``new_key`` (replacing a blob there); ``key`` is gone after.

        Raises :class:`~stepwell.exceptions.BlobNotFoundError` when ``key`` is absent.
        This default copies then deletes (a reader may see both for a moment); a
        backend that can rename atomically (a local directory) does.
        """
        validate_key(key)
        validate_key(new_key)
        data = self.load_bytes(key)
        self.save_bytes(new_key, data, overwrite=True)
        self.delete(key)


class StorageRegistry:
    """Storage backends by name, so callers never import a concrete backend by path.

    A factory is a callable returning a :class:`Storage`, or a ``"module:attr"``
    string imported on first use (so optional backends cost nothing until used).
    """

    def __init__(self, factories: dict[str, StorageFactory | str] | None = None) -> None:
        self._factories: dict[str, StorageFactory | str] = dict(factories or {})

    def register(self, name: str, factory: StorageFactory | str) -> None:
        """Register (or replace) the backend called ``name``."""
        if not name or not isinstance(name, str):
            raise StorageError(f"A storage backend needs a non-empty name, got {name!r}.")
        self._factories[name] = factory

    def names(self) -> list[str]:
        """The registered backend names, sorted."""
        return sorted(self._factories)

    def get(self, name: str, **kwargs: Any) -> Storage:
        """Build the backend called ``name`` with ``kwargs``."""
        try:
            factory = self._factories[name]
        except KeyError:
            known = ", ".join(self.names()) or "(none)"
            raise StorageError(
                f"Unknown storage backend {name!r}. Registered backends: {known}.",
                name=name,
            ) from None
        if isinstance(factory, str):
            module_name, _, attr = factory.partition(":")
            factory = getattr(importlib.import_module(module_name), attr)
        return factory(**kwargs)


_registry = StorageRegistry(
    {"local": "stepwell.store._local:LocalStorage", "s3": "stepwell.store._s3:S3Storage"}
)


def register_storage(name: str, factory: StorageFactory | str) -> None:
    """Register a storage backend under ``name`` in the process-wide registry.

    Example:
        >>> register_storage("s3", "stepwell.store._s3:S3Storage")  # doctest: +SKIP
    """
    _registry.register(name, factory)


def get_storage(name: str, **kwargs: Any) -> Storage:
    """Build the storage backend registered as ``name``, e.g. ``get_storage("local", root=p)``."""
    return _registry.get(name, **kwargs)


def preload_storage(url: str) -> None:
    """Import what the storage at ``url`` needs, creating nothing (before a zygote forks).

    Tasks forked afterwards open their own client without importing a module each.
    """
    if str(url).startswith("s3://"):
        importlib.import_module("stepwell.store._s3")
        with contextlib.suppress(ImportError):  # reported when the storage is opened
            importlib.import_module("obstore.store")


def open_storage(url: str, *, endpoint_url: str | None = None) -> Storage:
    """The storage at ``url``: ``s3://bucket/prefix`` (the 's3' backend) or a local directory.

    This is how a run's recorded datastore is opened again by its readers.
    """
    if str(url).startswith("s3://"):
        return get_storage("s3", root=str(url), endpoint_url=endpoint_url)
    if "://" in str(url):
        scheme = str(url).split("://", 1)[0]
        raise StorageError(
            f"Unsupported datastore {url!r}: stepwell stores blobs in a local directory or "
            f"in S3 (s3://bucket/prefix), not {scheme}://."
        )
    return get_storage("local", root=pathlib.Path(url))


def storage_names() -> list[str]:
    """The names of the registered storage backends."""
    return _registry.names()
