"""This machine's cache of a remote datastore's blobs: written through, read locally, verified."""

from __future__ import annotations

import os
import pathlib
import threading
import time

import numpy as np
import pytest
from store_doubles import CountingStorage, MemoryStorage

from stepwell.exceptions import StorageError
from stepwell.store import (
    BlobData,
    ContentStore,
    LocalStorage,
    load_artifact,
    prune_cache,
    save_artifacts,
)


def _stores(tmp_path: pathlib.Path) -> tuple[CountingStorage, LocalStorage, ContentStore]:
    remote = CountingStorage(MemoryStorage())
    cache = LocalStorage(tmp_path / "cache")
    return remote, cache, ContentStore(remote, cache=cache)


def test_a_blob_written_here_is_read_back_without_downloading(tmp_path: pathlib.Path) -> None:
    remote, cache, store = _stores(tmp_path)
    value = np.arange(100_000, dtype="float64")
    refs = save_artifacts(store, {"x": value})
    assert remote.calls["save_bytes"] == 1
    again = load_artifact(store, refs["x"])
    np.testing.assert_array_equal(again, value)
    assert remote.calls["load_bytes"] == 0
    assert cache.exists(ContentStore.object_key(refs["x"].key))


def test_a_blob_read_once_is_kept_for_the_next_reader(tmp_path: pathlib.Path) -> None:
    remote, _, writer = _stores(tmp_path / "elsewhere")
    [ref] = writer.save_blobs([os.urandom(200_000)])
    reader = ContentStore(remote, cache=LocalStorage(tmp_path / "cache"))
    first = bytes(reader.load_blob(ref.key))
    assert remote.calls["load_bytes"] == 1
    other_process = ContentStore(remote, cache=LocalStorage(tmp_path / "cache"))
    assert bytes(other_process.load_blob(ref.key)) == first
    assert remote.calls["load_bytes"] == 1


def test_a_damaged_cached_copy_is_dropped_and_read_again(tmp_path: pathlib.Path) -> None:
    remote, cache, store = _stores(tmp_path)
    payload = os.urandom(100_000)
    [ref] = store.save_blobs([payload])
    path = cache.local_path(ContentStore.object_key(ref.key))
    damaged = bytearray(path.read_bytes())
    damaged[-1] ^= 0xFF
    path.write_bytes(bytes(damaged))
    assert bytes(store.load_blob(ref.key)) == payload
    assert remote.calls["load_bytes"] == 1  # from the remote store, not the damaged copy
    assert path.read_bytes() != bytes(damaged)  # and the copy is whole again


def test_pruning_drops_the_least_recently_used_blobs_first(tmp_path: pathlib.Path) -> None:
    _, cache, store = _stores(tmp_path)
    refs = store.save_blobs([os.urandom(100_000) for _ in range(4)])
    paths = [cache.local_path(ContentStore.object_key(r.key)) for r in refs]
    for i, path in enumerate(paths):  # paths[0] is the oldest
        os.utime(path, (1_000_000 + i, 1_000_000 + i))
    store.load_blob(refs[0].key)  # used now: kept
    freed = prune_cache(tmp_path / "cache", max_bytes=250_000)
    assert freed > 0
    assert [p.exists() for p in paths] == [True, False, False, True]


class _FailingUpload(MemoryStorage):
    """A remote store whose blob uploads fail (the network went away) after waiting a while
    for this machine's cache to receive the blob, noting whether it did."""

    def __init__(self, cache_root: pathlib.Path, wait: float) -> None:
        super().__init__()
        self.cache_root = cache_root
        self.wait = wait
        self.cached_during_upload = False

    def save_bytes(self, key: str, data: BlobData, *, overwrite: bool = False) -> None:
        if key.startswith("objects/"):
            deadline = time.monotonic() + self.wait
            while time.monotonic() < deadline and not self.cached_during_upload:
                self.cached_during_upload = any(self.cache_root.glob("objects/*/*"))
                time.sleep(0.01)
            raise StorageError(f"Could not write blob {key!r}: connection reset", key=key)
        super().save_bytes(key, data, overwrite=overwrite)


def test_a_large_blob_is_cached_while_it_uploads_and_the_writer_is_joined(
    tmp_path: pathlib.Path,
) -> None:
    remote = _FailingUpload(tmp_path / "cache", wait=5.0)
    store = ContentStore(remote, cache=LocalStorage(tmp_path / "cache"))
    payload = os.urandom(9 << 20)  # past the size whose cache copy overlaps the upload
    with pytest.raises(StorageError, match="connection reset"):
        store.save_blobs([payload])
    assert remote.cached_during_upload
    assert "stepwell-cache" not in [t.name for t in threading.enumerate()]  # joined
    # The local copy is whole (a later repair may restore the remote blob from it).
    [path] = (tmp_path / "cache" / "objects").glob("*/*")
    assert path.read_bytes()[64:] == payload


def test_a_small_blob_is_cached_only_after_its_upload_succeeded(tmp_path: pathlib.Path) -> None:
    remote = _FailingUpload(tmp_path / "cache", wait=0.3)
    store = ContentStore(remote, cache=LocalStorage(tmp_path / "cache"))
    with pytest.raises(StorageError):
        store.save_blobs([os.urandom(100_000)])
    assert not remote.cached_during_upload
    assert not list((tmp_path / "cache").glob("objects/*/*"))
