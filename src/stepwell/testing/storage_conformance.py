"""The conformance suite every :class:`~stepwell.store.Storage` backend must pass.

Subclass :class:`StorageConformance` in a test module and provide a ``storage``
fixture that returns an empty backend::

    class TestLocalStorage(StorageConformance):
        @pytest.fixture
        def storage(self, tmp_path):
            return LocalStorage(tmp_path / "store")

Needs pytest (``pip install 'stepwell[dev]'``).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import pytest

from stepwell.exceptions import BlobNotFoundError, StorageError
from stepwell.store import BlobInfo, BufferLike, Storage

INVALID_KEYS = [
    "",
    "/etc/passwd",
    "../outside",
    "a/../../outside",
    "a/./b",
    ".",
    "..",
    "a\\b",
    "..\\outside",
    "a//b",
    "a/",
    "C:/windows",
    ".hidden",
    "a/\x00b",
]


def _run_together(workers: int, work: Callable[[int], None]) -> list[BaseException]:
    """Run ``work(i)`` on ``workers`` threads released at once; return their exceptions."""
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            work(i)
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


class StorageConformance:
    """Behaviour shared by every storage backend. Subclasses provide ``storage``."""

    def test_save_then_load_returns_the_bytes(self, storage: Storage) -> None:
        storage.save_bytes("runs/1/params", b"\x00binary\xffdata")
        assert storage.load_bytes("runs/1/params") == b"\x00binary\xffdata"

    def test_save_writes_a_list_of_buffers_back_to_back(self, storage: Storage) -> None:
        parts: list[BufferLike] = [b"head", bytearray(b"-mid-"), memoryview(b"tail")]
        storage.save_bytes("multi", parts)
        assert storage.load_bytes("multi") == b"head-mid-tail"

    def test_empty_blob_round_trips(self, storage: Storage) -> None:
        storage.save_bytes("empty", b"")
        assert storage.exists("empty")
        assert storage.load_bytes("empty") == b""
        assert storage.info("empty").size == 0

    def test_exists_only_for_saved_keys(self, storage: Storage) -> None:
        assert not storage.exists("a/b")
        storage.save_bytes("a/b", b"x")
        assert storage.exists("a/b")
        assert not storage.exists("a")  # a prefix is not a blob

    def test_load_missing_key_raises_blob_not_found_naming_it(self, storage: Storage) -> None:
        with pytest.raises(BlobNotFoundError, match="no/such/key"):
            storage.load_bytes("no/such/key")

    def test_blob_not_found_is_a_key_error_and_a_storage_error(self, storage: Storage) -> None:
        with pytest.raises(KeyError):
            storage.load_bytes("missing")
        with pytest.raises(StorageError):
            storage.info("missing")

    def test_info_reports_size_and_modified_time(self, storage: Storage) -> None:
        before = time.time()
        storage.save_bytes("sized", b"x" * 1234)
        info = storage.info("sized")
        assert isinstance(info, BlobInfo)
        assert info.key == "sized"
        assert info.size == 1234
        assert before - 5 <= info.modified <= time.time() + 5

    def test_info_missing_key_raises_blob_not_found(self, storage: Storage) -> None:
        with pytest.raises(BlobNotFoundError, match="ghost"):
            storage.info("ghost")

    def test_save_without_overwrite_keeps_the_existing_blob(self, storage: Storage) -> None:
        storage.save_bytes("k", b"first")
        storage.save_bytes("k", b"second")
        assert storage.load_bytes("k") == b"first"

    def test_save_with_overwrite_replaces_the_blob(self, storage: Storage) -> None:
        storage.save_bytes("k", b"first")
        storage.save_bytes("k", b"second, longer", overwrite=True)
        assert storage.load_bytes("k") == b"second, longer"
        assert storage.info("k").size == len(b"second, longer")

    def test_delete_removes_the_blob(self, storage: Storage) -> None:
        storage.save_bytes("d/x", b"1")
        storage.save_bytes("d/y", b"2")
        storage.delete("d/x")
        assert not storage.exists("d/x")
        assert storage.load_bytes("d/y") == b"2"
        with pytest.raises(BlobNotFoundError):
            storage.load_bytes("d/x")

    def test_delete_of_a_missing_key_is_not_an_error(self, storage: Storage) -> None:
        storage.delete("never/written")
        assert not storage.exists("never/written")

    def test_move_puts_the_blob_under_the_new_key_only(self, storage: Storage) -> None:
        storage.save_bytes("objects/ab/cd", b"damaged bytes")
        storage.move("objects/ab/cd", "quarantine/objects/ab/cd/1")
        assert not storage.exists("objects/ab/cd")
        assert storage.load_bytes("quarantine/objects/ab/cd/1") == b"damaged bytes"
        assert list(storage.list()) == ["quarantine/objects/ab/cd/1"]
        storage.save_bytes("objects/ab/cd", b"written again")  # the key is free again
        assert storage.load_bytes("objects/ab/cd") == b"written again"

    def test_move_replaces_a_blob_at_the_new_key(self, storage: Storage) -> None:
        storage.save_bytes("m/old", b"old")
        storage.save_bytes("m/new", b"new")
        storage.move("m/new", "m/old")
        assert storage.load_bytes("m/old") == b"new"
        assert list(storage.list("m/")) == ["m/old"]

    def test_touch_keeps_the_bytes_and_never_moves_time_back(self, storage: Storage) -> None:
        storage.save_bytes("t/blob", b"same bytes")
        before = storage.info("t/blob").modified
        storage.touch("t/blob")
        storage.touch("never/written")  # absent: nothing to do, no error
        assert storage.load_bytes("t/blob") == b"same bytes"
        assert storage.info("t/blob").modified >= before
        assert not storage.exists("never/written")

    def test_move_of_a_missing_key_raises_blob_not_found(self, storage: Storage) -> None:
        with pytest.raises(BlobNotFoundError, match="not/there"):
            storage.move("not/there", "elsewhere")
        assert not storage.exists("elsewhere")

    def test_info_version_changes_when_the_bytes_are_replaced(self, storage: Storage) -> None:
        storage.save_bytes("v", b"a" * 100)
        first = storage.info("v")
        assert isinstance(first.version, str)
        assert storage.info("v").version == first.version  # stable while unchanged
        storage.save_bytes("v", b"b" * 100, overwrite=True)  # same size, other bytes
        if first.version:  # backends that cannot tell leave it empty ("modified" stands in)
            assert storage.info("v").version != first.version

    def test_list_returns_every_key(self, storage: Storage) -> None:
        keys = {"a", "b/c", "b/d/e", "objects/ab/cdef"}
        for key in keys:
            storage.save_bytes(key, key.encode())
        assert sorted(storage.list()) == sorted(keys)

    def test_list_of_an_empty_store_is_empty(self, storage: Storage) -> None:
        assert list(storage.list()) == []
        assert list(storage.list("nothing/")) == []

    def test_list_filters_by_plain_string_prefix(self, storage: Storage) -> None:
        for key in ("runs/1/a", "runs/10/b", "runs/2/c", "logs/1"):
            storage.save_bytes(key, b"")
        assert sorted(storage.list("runs/1")) == ["runs/1/a", "runs/10/b"]
        assert sorted(storage.list("runs/1/")) == ["runs/1/a"]
        assert sorted(storage.list("runs/")) == ["runs/1/a", "runs/10/b", "runs/2/c"]
        assert sorted(storage.list("logs/1")) == ["logs/1"]
        assert list(storage.list("zzz")) == []

    def test_list_does_not_show_deleted_keys(self, storage: Storage) -> None:
        storage.save_bytes("p/a", b"")
        storage.save_bytes("p/b", b"")
        storage.delete("p/a")
        assert list(storage.list("p/")) == ["p/b"]

    @pytest.mark.parametrize("key", INVALID_KEYS)
    def test_invalid_keys_are_rejected_everywhere(self, storage: Storage, key: str) -> None:
        calls: list[Callable[[], object]] = [
            lambda: storage.save_bytes(key, b"x"),
            lambda: storage.load_bytes(key),
            lambda: storage.exists(key),
            lambda: storage.info(key),
            lambda: storage.delete(key),
            lambda: storage.local_path(key),
            lambda: storage.move(key, "valid/target"),
            lambda: storage.move("valid/source", key),
        ]
        for call in calls:
            with pytest.raises(StorageError, match="Invalid storage key") as caught:
                call()
            assert not isinstance(caught.value, BlobNotFoundError)
        assert list(storage.list()) == []

    @pytest.mark.parametrize("prefix", ["/abs", "../up", "a/../b", "a\\b"])
    def test_invalid_list_prefixes_are_rejected(self, storage: Storage, prefix: str) -> None:
        with pytest.raises(StorageError, match="Invalid storage key"):
            list(storage.list(prefix))

    def test_a_usable_storage_passes_its_check(self, storage: Storage) -> None:
        storage.check()  # raises StorageError, with what to fix, when it cannot be used
        storage.save_bytes("after/check", b"ok")
        assert storage.load_bytes("after/check") == b"ok"

    def test_root_url_names_the_place_it_reopens_from(self, storage: Storage) -> None:
        from stepwell.store import open_storage

        url = storage.root_url
        assert isinstance(url, str) and url
        if url.startswith("s3://") or url.startswith("/"):  # a datastore URL stepwell knows
            storage.save_bytes("reopened/key", b"same place")
            endpoint = getattr(getattr(storage, "options", None), "endpoint_url", None)
            again = open_storage(url, endpoint_url=endpoint)
            assert again.load_bytes("reopened/key") == b"same place"

    def test_is_remote_exactly_when_blobs_are_not_local_files(self, storage: Storage) -> None:
        assert storage.is_remote == (storage.local_path("any/key") is None)

    def test_local_path_is_none_or_the_file_holding_the_blob(self, storage: Storage) -> None:
        storage.save_bytes("lp/blob", b"on disk")
        path = storage.local_path("lp/blob")
        if path is not None:
            assert path.read_bytes() == b"on disk"

    def test_concurrent_writers_of_one_key_all_succeed(self, storage: Storage) -> None:
        payload = os.urandom(1 << 20)
        errors = _run_together(8, lambda i: storage.save_bytes("objects/same", [payload]))
        assert errors == []
        assert storage.load_bytes("objects/same") == payload
        assert list(storage.list()) == ["objects/same"]

    def test_concurrent_overwrites_leave_one_whole_blob(self, storage: Storage) -> None:
        payloads = [bytes([i]) * (512 << 10) for i in range(6)]

        def write(i: int) -> None:
            storage.save_bytes("contested", payloads[i], overwrite=True)

        assert _run_together(6, write) == []
        assert storage.load_bytes("contested") in payloads

    def test_readers_never_see_a_partial_blob(self, storage: Storage) -> None:
        old, new = b"o" * (2 << 20), b"n" * (2 << 20)
        storage.save_bytes("swap", old)
        seen: set[bytes] = set()

        def work(i: int) -> None:
            if i == 0:
                for _ in range(5):
                    storage.save_bytes("swap", new if _ % 2 == 0 else old, overwrite=True)
            else:
                for _ in range(10):
                    seen.add(bytes(storage.load_bytes("swap")))

        assert _run_together(3, work) == []
        assert seen <= {old, new}
