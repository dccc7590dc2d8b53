"""What the S3 client takes and returns: S3Object, S3GetObject, S3PutObject, RangeInfo."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NamedTuple

#: The user-metadata header that carries ``metadata=`` as JSON (the name metaflow.S3 uses,
#: so objects written by either client keep their metadata for the other).
USER_METADATA_KEY = "metaflow-user-attributes"


class RangeInfo(NamedTuple):
    """What part of an object a download holds."""

    total_size: int
    request_offset: int
    request_length: int


@dataclass(frozen=True)
class S3GetObject:
    """A part of an object to download: ``object[key][offset:offset + length]``.

    ``length=None`` reads to the end; a negative ``offset`` with ``length=None`` reads the
    last ``-offset`` bytes.

    Example:
        >>> S3GetObject("s3://bucket/data.parquet", offset=0, length=1024)
        S3GetObject(key='s3://bucket/data.parquet', offset=0, length=1024)
    """

    key: str
    offset: int | None = None
    length: int | None = None


@dataclass(frozen=True)
class S3PutObject:
    """An object to upload with ``put_many`` (``value``) or ``put_files`` (``path``).

    ``metadata`` is a JSON-encodable dict stored with the object; ``content_type`` its
    MIME type. Any object with these attributes works in its place.
    """

    key: str
    value: str | bytes | None = None
    path: str | None = None
    content_type: str | None = None
    metadata: dict[str, Any] | None = None


class S3Object:
    """A path or an object in S3, with an optional local copy.

    Returned by the :class:`~stepwell.data.S3` client, never made directly. The
    contents live in a temporary file (``path``) that is deleted when the ``S3``
    scope closes; ``blob`` and ``text`` read that file.
    """

    def __init__(
        self,
        prefix: str | None,
        url: str,
        path: str | None = None,
        *,
        size: int | None = None,
        exists: bool = True,
        content_type: str | None = None,
        metadata: dict[str, Any] | None = None,
        range_info: RangeInfo | None = None,
        last_modified: int | None = None,
        key: str | None = None,
        has_info: bool = False,
    ) -> None:
        self._prefix = prefix
        self._url = url
        self._path = path
        self._size = size
        self._exists = exists
        self._content_type = content_type
        self._metadata = metadata
        self._range_info = range_info
        self._last_modified = last_modified
        self._key = key if key is not None else _relative(prefix, url)
        self._has_info = has_info

    def __repr__(self) -> str:
        if not self._exists:
            what = "prefix" if self._url.endswith("/") else "missing"
            return f"<S3Object {self._url} ({what})>"
        size = "" if self._size is None else f" ({self._size} bytes)"
        return f"<S3Object {self._url}{size}>"

    @property
    def exists(self) -> bool:
        """True if this points at an existing object (not a prefix, not a missing key)."""
        return self._exists

    @property
    def downloaded(self) -> bool:
        """True if the contents were downloaded (``path``, ``blob``, ``text`` work)."""
        return self._path is not None

    @property
    def url(self) -> str:
        """The S3 location, ``s3://bucket/key`` (a prefix ends with '/')."""
        return self._url

    @property
    def prefix(self) -> str | None:
        """The requested prefix this object was found under (None for a full URL)."""
        return self._prefix

    @property
    def key(self) -> str:
        """The key as requested: a suffix of the root or prefix, or the full URL."""
        return self._key

    @property
    def path(self) -> str | None:
        """The local temporary file with the contents, or None if not downloaded."""
        return self._path

    @property
    def blob(self) -> bytes | None:
        """The contents as bytes (read from ``path``), or None if not downloaded."""
        if self._path is None:
            return None
        with open(self._path, "rb") as handle:
            return handle.read()

    @property
    def text(self) -> str | None:
        """The contents decoded as UTF-8, or None if not downloaded."""
        blob = self.blob
        return None if blob is None else blob.decode("utf-8")

    @property
    def size(self) -> int | None:
        """Size in bytes (of the part downloaded, for a range), None if no object."""
        return self._size

    @property
    def has_info(self) -> bool:
        """True if content type, user metadata, range and modification time were fetched."""
        return self._has_info

    @property
    def metadata(self) -> dict[str, Any] | None:
        """The user-defined metadata dict given at upload, or None if there is none."""
        return self._metadata

    @property
    def content_type(self) -> str | None:
        """The object's MIME type, or None if unknown."""
        return self._content_type

    @property
    def range_info(self) -> RangeInfo | None:
        """For a downloaded object: total size, offset and length of what was downloaded."""
        return self._range_info

    @property
    def last_modified(self) -> int | None:
        """Last modification time as a Unix timestamp (seconds), or None if unknown."""
        return self._last_modified


def _relative(prefix: str | None, url: str) -> str:
    if not prefix:
        return url
    base = prefix.rstrip("/") + "/"
    if url.startswith(base):
        return url[len(base) :].rstrip("/")
    return url


def encode_metadata(metadata: dict[str, Any] | None) -> str | None:
    """``metadata`` as the JSON text stored in the object's user metadata."""
    if not metadata:
        return None
    try:
        return json.dumps(metadata, sort_keys=True)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"S3 object metadata must be JSON-encodable, got {metadata!r}: {err}"
        ) from None


def decode_metadata(attributes: dict[str, str]) -> dict[str, Any] | None:
    """The user metadata of an object from its attributes (None if it has none)."""
    text = attributes.get(USER_METADATA_KEY)
    if text is not None:
        try:
            value = json.loads(text)
        except ValueError:
            return {USER_METADATA_KEY: text}
        return value if isinstance(value, dict) else {USER_METADATA_KEY: value}
    other = {k: v for k, v in attributes.items() if k.lower() not in _STANDARD_ATTRIBUTES}
    return other or None


_STANDARD_ATTRIBUTES = {
    "content-type",
    "content-disposition",
    "content-encoding",
    "content-language",
    "cache-control",
    "storage-class",
}
