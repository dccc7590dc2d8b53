"""One request each: download to a file, head, upload, list. Run many at once with ``parallel``.

Every function takes an ``obstore.store.S3Store`` opened at the bucket's root and a
full object key. Downloads stream into a file chunk by chunk, so memory stays
bounded whatever the object's size; uploads of large bodies or files go in parts.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from stepwell.data._objects import USER_METADATA_KEY, encode_metadata

#: Requests in flight at once for the *_many calls.
MAX_PARALLEL = 64
#: Bodies at least this big are uploaded in parts; smaller ones in one PUT.
MULTIPART_BYTES = 16 << 20
#: When at least PART_CONCURRENCY objects already in memory are uploaded together, the
#: connections are busy with whole objects, and bodies up to this size go in one PUT:
#: parts would only add requests (initiate, one per part, complete), and servers that
#: assemble parts by copying them take longer.
BUSY_MULTIPART_BYTES = 128 << 20
PART_BYTES = 8 << 20
#: Parts of one object uploaded at once.
PART_CONCURRENCY = 8
#: A download is written to its file in chunks of this size (the memory it holds). obstore
#: gathers the body's network reads into chunks this big; 1 MiB ones stay in the CPU's
#: cache and beat 4 MiB ones by ~15% (8 x 32 MiB to files: 931 vs 796 MB/s, 256 KiB-1 MiB
#: alike; benchmarks/s3.py --api).
CHUNK_BYTES = 1 << 20

T = TypeVar("T")
R = TypeVar("R")


def parallel(fn: Callable[[T], R], items: Iterable[T], limit: int = MAX_PARALLEL) -> list[R]:
    """``[fn(x) for x in items]`` with up to ``limit`` calls at once; the first error raises."""
    todo = list(items)
    if len(todo) <= 1:
        return [fn(item) for item in todo]
    with ThreadPoolExecutor(max_workers=min(limit, len(todo)), thread_name_prefix="s3") as pool:
        futures = [pool.submit(fn, item) for item in todo]
        try:
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise


@dataclass(frozen=True)
class Fetched:
    """What a GET (or HEAD) learned about an object, and where its bytes went."""

    size: int
    total_size: int
    offset: int
    attributes: dict[str, str]
    last_modified: int | None
    path: str | None = None


def byte_range(offset: int | None, length: int | None) -> Any:
    """obstore's ``range`` option for ``S3GetObject(offset, length)`` (None: whole object)."""
    if length is not None:
        if length <= 0:
            raise ValueError(f"S3GetObject length must be positive, got {length}.")
        start = offset or 0
        if start < 0:
            raise ValueError(f"S3GetObject offset must be >= 0 when a length is given: {start}.")
        return (start, start + length)
    if offset is None or offset == 0:
        return None
    return {"offset": offset} if offset > 0 else {"suffix": -offset}


def download(store: Any, key: str, directory: str, byte_range_: Any = None) -> Fetched:
    """GET ``key`` (or a range of it) into a new file in ``directory``, a chunk at a time."""
    import obstore

    options: Any = {"range": byte_range_} if byte_range_ is not None else None
    result = obstore.get(store, key, options=options)
    start, stop = result.range
    handle, path = tempfile.mkstemp(dir=directory, prefix="object.")
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in result.stream(min_chunk_size=CHUNK_BYTES):
                out.write(chunk)
    except BaseException:
        Path(path).unlink(missing_ok=True)
        raise
    return _fetched(result, size=stop - start, offset=start, path=path)


def head(store: Any, key: str) -> Fetched:
    """What ``key`` is (size, type, metadata, time) without its bytes."""
    import obstore

    result = obstore.get(store, key, options={"head": True})
    return _fetched(result, size=int(result.meta["size"]), offset=0)


def _fetched(result: Any, *, size: int, offset: int, path: str | None = None) -> Fetched:
    meta = result.meta
    modified = meta.get("last_modified")
    return Fetched(
        size=size,
        total_size=int(meta["size"]),
        offset=offset,
        attributes=dict(result.attributes),
        last_modified=int(modified.timestamp()) if modified is not None else None,
        path=path,
    )


def exists(store: Any, key: str) -> bool:
    """True if an object is stored under ``key``."""
    import obstore

    try:
        obstore.head(store, key)
    except FileNotFoundError as err:
        if "NoSuchBucket" in str(err):
            raise
        return False
    return True


def upload(
    store: Any,
    key: str,
    body: bytes | Path,
    *,
    overwrite: bool,
    content_type: str | None = None,
    metadata: dict[str, Any] | None = None,
    multipart_bytes: int = MULTIPART_BYTES,
) -> bool:
    """PUT ``body`` (bytes, or a file streamed from disk) at ``key``; False if it was kept.

    Bodies of ``multipart_bytes`` or more go in parts (a file is never read whole).

    With ``overwrite=False`` an existing object stays: small bodies are written
    conditionally (atomic); large ones, which go in parts, after a check that the
    key is free (a writer racing in between may be overwritten).
    """
    import obstore
    from obstore.exceptions import AlreadyExistsError

    attributes: dict[str, str] = {}
    if content_type:
        attributes["Content-Type"] = content_type
    encoded = encode_metadata(metadata)
    if encoded is not None:
        attributes[USER_METADATA_KEY] = encoded
    size = body.stat().st_size if isinstance(body, Path) else len(body)
    if size < (MULTIPART_BYTES if isinstance(body, Path) else multipart_bytes):
        data = body.read_bytes() if isinstance(body, Path) else body
        try:
            obstore.put(
                store, key, data, attributes=attributes or None,
                mode="overwrite" if overwrite else "create", use_multipart=False,
            )  # fmt: skip
        except AlreadyExistsError:
            return False
        return True
    if not overwrite and exists(store, key):
        return False
    obstore.put(
        store, key, body, attributes=attributes or None, use_multipart=True,
        chunk_size=PART_BYTES, max_concurrency=PART_CONCURRENCY,
    )  # fmt: skip
    return True


def list_level(store: Any, prefix: str) -> tuple[list[str], list[dict[str, Any]]]:
    """The next level under ``prefix`` (whole '/' segments): (sub-prefixes, objects)."""
    import obstore

    found = obstore.list_with_delimiter(store, prefix or None)
    return list(found["common_prefixes"]), [dict(meta) for meta in found["objects"]]


def list_all(store: Any, prefix: str) -> list[dict[str, Any]]:
    """Every object under ``prefix`` (whole '/' segments), sorted by key."""
    import obstore

    metas = [dict(meta) for page in obstore.list(store, prefix or None) for meta in page]
    return sorted(metas, key=lambda meta: str(meta["path"]))
