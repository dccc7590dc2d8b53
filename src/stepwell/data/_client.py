"""``S3``: Metaflow's S3 client API (get, put, list, info; one at a time or many in parallel)."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import warnings
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from stepwell.data import _transfer as transfer
from stepwell.data._errors import S3Error, S3NotFound, S3UrlError
from stepwell.data._location import Location, client_root, resolve
from stepwell.data._objects import RangeInfo, S3Object, decode_metadata
from stepwell.store._s3conn import S3Options, S3Url, check_fork_safe, explain, open_store

#: Metaflow-only constructor arguments: accepted; see the S3 class docstring for each.
_METAFLOW_ONLY = ("encryption", "role", "session_vars", "client_params")

#: HTTP 416 as a status, not digits of a port or a key ("127.0.0.1:41623").
_STATUS_416 = re.compile(r"(?<![\w:./-])416(?![\w])")


class S3:
    """The S3 client: fast parallel access to an S3-compatible object store.

    Mirrors ``metaflow.S3``. Use it as a context manager: downloaded objects live in
    temporary files that are deleted when the ``with`` block ends (or on
    :meth:`close`).

    Where keys point (see :mod:`stepwell.data`): ``S3(s3root="s3://bucket/prefix")``
    or ``S3(bucket=..., prefix=...)`` make keys suffixes of that root; ``S3()``
    takes full ``s3://`` URLs only; ``S3(run=self)`` in a step roots keys at
    ``<datastore root>/data/<FlowName>/<run_id>`` (the S3 datastore is needed;
    ``bucket``/``prefix`` then replace the datastore root's parts).

    Args:
        tmproot: Directory for the temporary download directory (default: the current
            directory if writable, else the system temporary directory).
        bucket: Bucket of the root (with ``run``: replaces the datastore's bucket).
        prefix: Path in the bucket of the root (with ``run``: replaces the datastore's).
        run: The running flow (``self``) or a client ``Run``.
        s3root: The root as a URL, ``s3://bucket/prefix``.
        **kwargs: Metaflow-only settings. ``client_params`` is honoured for
            ``endpoint_url`` and ``region_name``; ``encryption``, ``role`` and
            ``session_vars`` are accepted but ignored, with a warning (credentials come
            from the AWS environment and files; the bucket's default encryption applies).

    Example:
        >>> with S3(s3root="s3://my-bucket/tmp") as s3:  # doctest: +SKIP
        ...     url = s3.put("fruit", "pineapple")
        ...     s3.get("fruit").text
        'pineapple'
    """

    def __init__(
        self,
        tmproot: str | os.PathLike[str] | None = None,
        bucket: str | None = None,
        prefix: str | None = None,
        run: Any = None,
        s3root: str | None = None,
        **kwargs: Any,
    ) -> None:
        overrides = _metaflow_only(kwargs)
        self._root = client_root(bucket=bucket, prefix=prefix, run=run, s3root=s3root)
        self._options = S3Options.from_env(**overrides)
        self._tmproot = Path(tmproot) if tmproot is not None else _default_tmproot()
        self._tmpdir: str | None = None
        self._cleanup: Any = None
        self._stores: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"S3({str(self._root)!r})" if self._root else "S3()"

    # -- lifetime ---------------------------------------------------------------------------
    def __enter__(self) -> S3:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Delete all temporary files downloaded by this client."""
        if self._cleanup is not None:
            self._cleanup()
        self._tmpdir = self._cleanup = None

    # -- downloads --------------------------------------------------------------------------
    def get(
        self, key: Any = None, return_missing: bool = False, return_info: bool = True
    ) -> S3Object:
        """Download one object (a URL, a suffix of the root, or an ``S3GetObject`` range).

        Raises:
            S3NotFound: the object does not exist (unless ``return_missing``, which returns
                an ``S3Object`` with ``exists == False``).
        """
        return self._get_one(key if key is not None else "", return_missing, return_info)

    def get_many(
        self, keys: Iterable[Any], return_missing: bool = False, return_info: bool = True
    ) -> list[S3Object]:
        """Download many objects in parallel; results in the order of ``keys``."""
        return transfer.parallel(lambda k: self._get_one(k, return_missing, return_info), keys)

    def get_recursive(self, keys: Iterable[str], return_info: bool = False) -> list[S3Object]:
        """Download every object under the given prefixes (whole '/' segments), in parallel."""
        found = self._list(keys, recursive=True)
        return transfer.parallel(
            lambda listed: self._get_one(listed.url, False, return_info, listed=listed), found
        )

    def get_all(self, return_missing: bool = False, return_info: bool = False) -> list[S3Object]:
        """Download every object under the client's root (``s3root``, ``bucket`` or ``run``)."""
        self._require_root("get_all()")
        return self.get_recursive([""], return_info=return_info)

    # -- listing ----------------------------------------------------------------------------
    def list_paths(self, keys: Iterable[str] | None = None) -> list[S3Object]:
        """The next level under each prefix: objects, and sub-prefixes with ``exists == False``."""
        return self._list(self._list_keys(keys, "list_paths()"), recursive=False)

    def list_recursive(self, keys: Iterable[str] | None = None) -> list[S3Object]:
        """Every object under each prefix (whole '/' segments), all with ``exists == True``."""
        return self._list(self._list_keys(keys, "list_recursive()"), recursive=True)

    # -- metadata ---------------------------------------------------------------------------
    def info(self, key: str | None = None, return_missing: bool = False) -> S3Object:
        """Size, content type, metadata and time of one object with a HEAD request."""
        return self._info_one(key if key is not None else "", return_missing)

    def info_many(self, keys: Iterable[str], return_missing: bool = False) -> list[S3Object]:
        """:meth:`info` for many objects in parallel; results in the order of ``keys``."""
        return transfer.parallel(lambda k: self._info_one(k, return_missing), keys)

    # -- uploads ----------------------------------------------------------------------------
    def put(
        self,
        key: Any,
        obj: str | bytes | None = None,
        overwrite: bool = True,
        content_type: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> str:
        """Upload ``obj`` (str as UTF-8, or bytes) at ``key``; returns the object's URL.

        ``overwrite=False`` keeps an existing object (and still returns its URL).
        ``key`` may also be an ``S3PutObject`` carrying the value, type and metadata.
        """
        if not isinstance(key, str):
            obj = _attr(key, "value") if obj is None else obj
            content_type = content_type or _attr(key, "content_type")
            metadata = metadata or _attr(key, "metadata")
            key = _attr(key, "key")
        return self._put_one(key, _as_bytes(key, obj), overwrite, content_type, metadata)

    def put_many(self, key_objs: Iterable[Any], overwrite: bool = True) -> list[tuple[str, str]]:
        """Upload many ``(key, obj)`` pairs or ``S3PutObject``s in parallel.

        Returns ``(key, url)`` for every item, in order (also for kept objects when
        ``overwrite=False``).
        """
        items = [_put_item(item, "value") for item in key_objs]
        prepared = [(key, _as_bytes(key, value), ct, md) for key, value, ct, md in items]
        busy = len(prepared) >= transfer.PART_CONCURRENCY  # whole objects fill the connections
        parts_from = transfer.BUSY_MULTIPART_BYTES if busy else transfer.MULTIPART_BYTES

        def put(item: tuple[str, bytes, str | None, dict[str, Any] | None]) -> tuple[str, str]:
            key, body, content_type, metadata = item
            return key, self._put_one(key, body, overwrite, content_type, metadata, parts_from)

        return transfer.parallel(put, prepared)

    def put_files(self, key_paths: Iterable[Any], overwrite: bool = True) -> list[tuple[str, str]]:
        """Upload many local files, ``(key, path)`` pairs or ``S3PutObject``s, in parallel.

        Files are streamed from disk (large ones in parts), never read whole into memory.
        Returns ``(key, url)`` for every item, in order.
        """
        items = [_put_item(item, "path") for item in key_paths]
        for key, path, _, _ in items:
            if not os.path.isfile(path):
                raise S3Error(f"Cannot upload {str(path)!r} to key {key!r}: no such local file.")

        def put(item: tuple[str, Any, str | None, dict[str, Any] | None]) -> tuple[str, str]:
            key, path, content_type, metadata = item
            return key, self._put_one(key, Path(path), overwrite, content_type, metadata)

        return transfer.parallel(put, items)

    # -- plumbing ---------------------------------------------------------------------------
    def _store(self, bucket: str) -> Any:
        check_fork_safe()
        with self._lock:
            store = self._stores.get(bucket)
            if store is None:
                store = self._stores[bucket] = open_store(S3Url(bucket), self._options)
            return store

    def _directory(self) -> str:
        with self._lock:
            if self._tmpdir is None:
                self._tmproot.mkdir(parents=True, exist_ok=True)
                self._tmpdir = tempfile.mkdtemp(prefix="stepwell.s3.", dir=self._tmproot)
                self._cleanup = weakref.finalize(
                    self, shutil.rmtree, self._tmpdir, ignore_errors=True
                )
            return self._tmpdir

    def _require_root(self, what: str) -> S3Url:
        if self._root is None:
            raise S3UrlError(
                f"{what} needs a root: create the client with S3(s3root='s3://bucket/prefix'), "
                "S3(bucket=..., prefix=...) or, in a step, S3(run=self); or pass full s3:// URLs."
            )
        return self._root

    def _prefix_of(self, key: str) -> str | None:
        return None if key.startswith("s3://") or self._root is None else str(self._root)

    def _error(self, err: BaseException, loc: Location, verb: str) -> S3Error:
        where = self._options.endpoint_url or "AWS S3"
        if "NoSuchBucket" in str(err):
            return S3Error(
                f"Could not {verb} {loc.url}: the bucket {loc.bucket!r} does not exist at "
                f"{where}.\nCreate it, or check the URL (and STEPWELL_S3_ENDPOINT_URL).",
                url=loc.url,
            )
        detail = explain(err, S3Url(loc.bucket, loc.key), self._options)
        return S3Error(f"Could not {verb} {loc.url}: {detail}", url=loc.url)

    def _missing(self, err: BaseException, loc: Location, verb: str) -> BaseException:
        if "NoSuchBucket" in str(err):
            return self._error(err, loc, verb)
        return S3NotFound(f"No S3 object at {loc.url}.", url=loc.url)

    def _get_one(
        self, item: Any, return_missing: bool, return_info: bool, listed: S3Object | None = None
    ) -> S3Object:
        key, offset, length = _get_request(item)
        loc = resolve(self._root, key)
        wanted = transfer.byte_range(offset, length)
        try:
            got = transfer.download(self._store(loc.bucket), loc.key, self._directory(), wanted)
        except FileNotFoundError as err:
            missing = self._missing(err, loc, "download")
            if return_missing and isinstance(missing, S3NotFound):
                return S3Object(self._prefix_of(key), loc.url, exists=False, key=key)
            raise missing from None
        except Exception as err:
            if "InvalidRange" in str(err) or _STATUS_416.search(str(err)):
                raise S3Error(
                    f"Could not download {loc.url}: the range offset={offset}, length={length} "
                    "starts past the end of the object.",
                    url=loc.url,
                ) from None
            raise self._error(err, loc, "download") from err
        prefix, shown = (listed.prefix, listed.key) if listed else (self._prefix_of(key), key)
        return _object(prefix, loc.url, shown, got, return_info, downloaded=True)

    def _info_one(self, key: str, return_missing: bool) -> S3Object:
        loc = resolve(self._root, key)
        try:
            got = transfer.head(self._store(loc.bucket), loc.key)
        except FileNotFoundError as err:
            missing = self._missing(err, loc, "look up")
            if return_missing and isinstance(missing, S3NotFound):
                return S3Object(self._prefix_of(key), loc.url, exists=False, key=key)
            raise missing from None
        except Exception as err:
            raise self._error(err, loc, "look up") from err
        return _object(self._prefix_of(key), loc.url, key, got, True, downloaded=False)

    def _put_one(
        self,
        key: str,
        body: bytes | Path,
        overwrite: bool,
        content_type: str | None,
        metadata: dict[str, Any] | None,
        multipart_bytes: int = transfer.MULTIPART_BYTES,
    ) -> str:
        loc = resolve(self._root, key)
        if not loc.key:
            raise S3UrlError(f"Cannot upload to {loc.url}: the URL names a bucket, not an object.")
        try:
            transfer.upload(
                self._store(loc.bucket), loc.key, body, overwrite=overwrite,
                content_type=content_type, metadata=metadata, multipart_bytes=multipart_bytes,
            )  # fmt: skip
        except FileNotFoundError as err:
            raise self._error(err, loc, "upload to") from err
        except (S3Error, TypeError):
            raise
        except Exception as err:
            raise self._error(err, loc, "upload to") from err
        return loc.url

    def _list_keys(self, keys: Iterable[str] | None, what: str) -> list[str]:
        if keys is None:
            self._require_root(what)
            return [""]
        if isinstance(keys, str):
            raise TypeError(f"{what} takes a list of keys, got the str {keys!r}; use [{keys!r}].")
        return list(keys)

    def _list(self, keys: Iterable[str], *, recursive: bool) -> list[S3Object]:
        if isinstance(keys, str):
            raise TypeError(f"Give a list of prefixes, got the str {keys!r}; use [{keys!r}].")
        pages = transfer.parallel(lambda key: self._list_one(key, recursive), list(keys))
        return [obj for page in pages for obj in page]

    def _list_one(self, key: str, recursive: bool) -> list[S3Object]:
        loc = resolve(self._root, key)
        store = self._store(loc.bucket)
        try:
            prefixes: list[str] = []
            if recursive:
                metas = transfer.list_all(store, loc.key)
            else:
                prefixes, metas = transfer.list_level(store, loc.key)
            if not prefixes and not metas and loc.key and transfer.exists(store, loc.key):
                got = transfer.head(store, loc.key)
                return [_object(self._prefix_of(key), loc.url, key, got, False, downloaded=False)]
        except Exception as err:
            raise self._error(err, loc, "list") from err
        found = [S3Object(loc.url, f"s3://{loc.bucket}/{p}/", exists=False) for p in prefixes]
        found += [
            S3Object(loc.url, f"s3://{loc.bucket}/{m['path']}", size=int(m["size"])) for m in metas
        ]
        return sorted(found, key=lambda obj: obj.url)


def _object(
    prefix: str | None,
    url: str,
    key: str,
    got: transfer.Fetched,
    return_info: bool,
    *,
    downloaded: bool,
) -> S3Object:
    info: dict[str, Any] = {}
    if return_info:
        info = {
            "content_type": got.attributes.get("Content-Type"),
            "metadata": decode_metadata(got.attributes),
            "last_modified": got.last_modified,
            "range_info": (RangeInfo(got.total_size, got.offset, got.size) if downloaded else None),
            "has_info": True,
        }
    return S3Object(prefix, url, got.path, size=got.size, key=key, **info)


def _get_request(item: Any) -> tuple[str, int | None, int | None]:
    if isinstance(item, str):
        return item, None, None
    key = getattr(item, "key", None)
    if not isinstance(key, str):
        raise TypeError(
            f"Each key must be a str or an S3GetObject(key, offset, length), got {item!r}."
        )
    return key, getattr(item, "offset", None), getattr(item, "length", None)


def _put_item(item: Any, field: str) -> tuple[str, Any, str | None, dict[str, Any] | None]:
    """(key, value or path, content type, metadata) of a pair or an S3PutObject-like item."""
    if isinstance(item, tuple | list):
        if len(item) != 2:
            raise TypeError(f"Each item must be a (key, {field}) pair, got {item!r}.")
        return str(item[0]), item[1], None, None
    value = _attr(item, field)
    if value is None:
        raise TypeError(f"{item!r} has no {field!r} to upload.")
    return _attr(item, "key"), value, _attr(item, "content_type"), _attr(item, "metadata")


def _attr(item: Any, name: str) -> Any:
    if name == "key" and not isinstance(getattr(item, "key", None), str):
        raise TypeError(f"Expected a (key, value) pair or an S3PutObject, got {item!r}.")
    return getattr(item, name, None)


def _as_bytes(key: str, obj: Any) -> bytes:
    if isinstance(obj, str):
        return obj.encode("utf-8")
    if isinstance(obj, bytes | bytearray | memoryview):
        return bytes(obj)
    raise TypeError(
        f"S3 stores str or bytes; the value for key {key!r} is a {type(obj).__name__}. "
        "Serialize it first (e.g. json.dumps, pickle.dumps, or a Parquet buffer)."
    )


def _metaflow_only(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Endpoint/region overrides from ``client_params``; warn about ignored settings."""
    unknown = sorted(set(kwargs) - set(_METAFLOW_ONLY))
    if unknown:
        raise TypeError(
            f"S3() got unexpected argument(s) {', '.join(unknown)}. Valid: tmproot, bucket, "
            f"prefix, run, s3root (and Metaflow's {', '.join(_METAFLOW_ONLY)})."
        )
    params = dict(kwargs.get("client_params") or {})
    overrides = {"endpoint_url": params.pop("endpoint_url", None)}
    overrides["region"] = params.pop("region_name", None)
    ignored = [name for name in ("encryption", "role", "session_vars") if kwargs.get(name)]
    ignored += [f"client_params[{name!r}]" for name in sorted(params)]
    if ignored:
        warnings.warn(
            f"stepwell.S3 ignores {', '.join(ignored)}: credentials come from the AWS "
            "environment variables and ~/.aws files, and the bucket's default encryption "
            "applies.",
            stacklevel=3,
        )
    return overrides


def _default_tmproot() -> Path:
    cwd = Path.cwd()
    return cwd if os.access(cwd, os.W_OK) else Path(tempfile.gettempdir())
