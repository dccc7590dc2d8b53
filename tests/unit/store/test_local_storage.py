"""LocalStorage specifics: file layout, atomic publication, fsync, and the backend registry."""

from __future__ import annotations

import os
import pathlib

import pytest

from stepwell.exceptions import StorageError
from stepwell.store import (
    LocalStorage,
    StorageRegistry,
    get_storage,
    storage_names,
    validate_key,
)


def _all_files(root: pathlib.Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_keys_map_to_nested_files_under_root(tmp_path: pathlib.Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.save_bytes("objects/ab/cdef", b"blob")
    assert (tmp_path / "objects" / "ab" / "cdef").read_bytes() == b"blob"
    assert storage.local_path("objects/ab/cdef") == tmp_path.resolve() / "objects/ab/cdef"


def test_no_temporary_files_remain_after_writes(tmp_path: pathlib.Path) -> None:
    storage = LocalStorage(tmp_path)
    for overwrite in (False, True, False):
        storage.save_bytes("a/b", b"x" * 10, overwrite=overwrite)
    storage.save_bytes("a/c", [b"1", b"2"])
    assert _all_files(tmp_path) == ["a/b", "a/c"]


def test_a_failed_write_leaves_no_file(tmp_path: pathlib.Path) -> None:
    storage = LocalStorage(tmp_path)
    with pytest.raises(StorageError, match="Cannot write"):
        storage.save_bytes("bad", [b"ok", 12345])  # type: ignore[list-item]
    assert _all_files(tmp_path) == []


def test_path_traversal_writes_nothing_outside_root(tmp_path: pathlib.Path) -> None:
    root = tmp_path / "root"
    storage = LocalStorage(root)
    for key in ("../escape", "a/../../escape", "/tmp/escape"):
        with pytest.raises(StorageError):
            storage.save_bytes(key, b"x")
    assert _all_files(tmp_path) == []


def test_fsync_flushes_the_file_and_its_directory(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    LocalStorage(tmp_path, fsync=True).save_bytes("durable/blob", b"data")
    assert len(synced) == 2  # the temporary file, then the directory entry
    synced.clear()
    LocalStorage(tmp_path / "other").save_bytes("fast/blob", b"data")
    assert synced == []


def test_delete_of_a_prefix_is_refused(tmp_path: pathlib.Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.save_bytes("dir/blob", b"x")
    with pytest.raises(StorageError, match="prefix"):
        storage.delete("dir")
    assert storage.exists("dir/blob")


def test_a_file_on_a_missing_parent_path_is_not_found(tmp_path: pathlib.Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.save_bytes("file", b"x")
    assert not storage.exists("file/child")
    with pytest.raises(KeyError, match="file/child"):
        storage.load_bytes("file/child")


def test_validate_key_explains_the_rule() -> None:
    assert validate_key("objects/ab/cd") == "objects/ab/cd"
    with pytest.raises(StorageError, match=r"'\.\.' segments are not allowed"):
        validate_key("a/../b")


def test_get_storage_builds_the_local_backend_by_name(tmp_path: pathlib.Path) -> None:
    assert "local" in storage_names()
    storage = get_storage("local", root=tmp_path)
    assert isinstance(storage, LocalStorage)
    assert storage.root == tmp_path.resolve()


def test_unknown_backend_name_lists_the_registered_ones() -> None:
    registry = StorageRegistry({"local": LocalStorage, "memory": LocalStorage})
    with pytest.raises(StorageError, match=r"Unknown storage backend 's4'.*local, memory"):
        registry.get("s4")


def test_registered_factories_receive_the_keyword_arguments(tmp_path: pathlib.Path) -> None:
    registry = StorageRegistry()
    registry.register("mine", lambda **kw: LocalStorage(kw["root"], fsync=kw["fsync"]))
    storage = registry.get("mine", root=tmp_path, fsync=True)
    assert isinstance(storage, LocalStorage)
    assert storage.fsync is True
    registry.register("lazy", "stepwell.store._local:LocalStorage")
    assert isinstance(registry.get("lazy", root=tmp_path), LocalStorage)
