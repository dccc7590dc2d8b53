"""Detect and repair: quarantine on a corrupt read, checks on a save of stored content, stamps."""

from __future__ import annotations

import json
import os
import pathlib
import time

import pytest
from store_doubles import MemoryStorage

from stepwell.exceptions import BlobNotFoundError, CorruptBlobError
from stepwell.store import ContentStore, LocalStorage
from stepwell.store import _integrity as integrity
from stepwell.store._blobformat import HEADER_SIZE

SMALL = os.urandom(1000)  # read whole (no memory map), never stamped
MAPPED = os.urandom(200_000)  # read as a memory map, never stamped
LARGE = os.urandom(integrity.STAMP_MIN_BYTES + 4096)  # stamped when written


def _blob_file(local: LocalStorage, key: str) -> pathlib.Path:
    return local.root / "objects" / key[:2] / key[2:]


def _damage(path: pathlib.Path, offset: int = HEADER_SIZE + 10) -> None:
    """Change one byte in place, keeping the size (what bit rot or a stray write does)."""
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))


def _quarantined(local: LocalStorage, key: str) -> list[str]:
    return sorted(local.list(integrity.quarantine_dir(key)))


def _no_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the stored copy was read and hashed")

    monkeypatch.setattr(integrity, "hash_raw_file", refuse)


@pytest.mark.parametrize("payload", [SMALL, MAPPED], ids=["read", "mapped"])
def test_a_blob_found_corrupt_on_read_is_quarantined(
    store: ContentStore, local: LocalStorage, payload: bytes
) -> None:
    [ref] = store.save_blobs([payload])
    _damage(_blob_file(local, ref.key))
    with pytest.raises(CorruptBlobError) as caught:
        store.load_blob(ref.key, context="artifact 'x' of task F/1/start/1")
    message = str(caught.value)
    assert "is corrupt" in message and "quarantine" in message
    assert "re-run the task that produced it" in message
    assert not store.exists(ref.key)  # no longer counts as stored
    moved, note = _quarantined(local, ref.key)
    assert note == f"{moved}.json"
    assert local.load_bytes(moved) != b""  # the damaged bytes are kept, not deleted
    record = json.loads(local.load_bytes(note))
    assert record["by"] == "read" and record["key"] == ref.key
    assert record["uses"] == ["artifact 'x' of task F/1/start/1"]
    assert "hashes to" in record["reason"]


def test_after_a_quarantine_the_next_save_stores_the_blob_again(
    store: ContentStore, local: LocalStorage
) -> None:
    [ref] = store.save_blobs([MAPPED])
    _damage(_blob_file(local, ref.key))
    with pytest.raises(CorruptBlobError):
        store.load_blob(ref.key)
    [again] = store.save_blobs([MAPPED])
    assert again.key == ref.key and again.written
    assert bytes(store.load_blob(ref.key)) == MAPPED


def test_a_read_of_a_quarantined_blob_says_when_why_and_what_to_do(
    store: ContentStore, local: LocalStorage
) -> None:
    [ref] = store.save_blobs([SMALL])
    _damage(_blob_file(local, ref.key))
    with pytest.raises(CorruptBlobError):
        store.load_blob(ref.key)
    with pytest.raises(BlobNotFoundError) as caught:
        store.load_blob(ref.key, context="artifact 'x'")
    message = str(caught.value)
    assert "a read found it damaged" in message and "quarantine/objects/" in message
    assert "Re-run the task that produced it" in message


def test_a_plain_missing_blob_keeps_the_plain_message(store: ContentStore) -> None:
    with pytest.raises(BlobNotFoundError, match="garbage-collected or never written"):
        store.load_blob("ab" * 32)


@pytest.mark.parametrize("payload", [SMALL, MAPPED, LARGE], ids=["small", "mapped", "large"])
def test_saving_content_whose_stored_copy_was_damaged_quarantines_and_rewrites(
    local: LocalStorage, payload: bytes
) -> None:
    with ContentStore(local) as first:
        [ref] = first.save_blobs([payload])
    path = _blob_file(local, ref.key)
    time.sleep(0.05)  # past the filesystem's timestamp granularity
    stat = path.stat()
    _damage(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # even with the old mtime back
    with ContentStore(local) as another_process:
        [again] = another_process.save_blobs([payload])
        assert again.written, "the damaged copy was trusted"
        assert bytes(another_process.load_blob(ref.key)) == payload
    [_, note] = _quarantined(local, ref.key)
    assert json.loads(local.load_bytes(note))["by"] == "save"


def test_a_size_mismatch_is_found_on_save_without_reading_the_blob(
    local: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ContentStore(local) as first:
        [ref] = first.save_blobs([LARGE])
    with open(_blob_file(local, ref.key), "ab") as f:
        f.write(b"appended garbage")
    _no_hashing(monkeypatch)
    with ContentStore(local) as store:
        [again] = store.save_blobs([LARGE])
        assert again.written
    [_, note] = _quarantined(local, ref.key)
    assert "bytes for a payload of" in json.loads(local.load_bytes(note))["reason"]


def test_a_truncated_blob_is_found_on_save(local: LocalStorage) -> None:
    with ContentStore(local) as first:
        [ref] = first.save_blobs([LARGE])
    path = _blob_file(local, ref.key)
    path.write_bytes(path.read_bytes()[: len(LARGE) // 2])
    with ContentStore(local) as store:
        assert store.save_blobs([LARGE])[0].written
        assert bytes(store.load_blob(ref.key)) == LARGE


def test_a_large_blob_written_here_is_trusted_on_save_without_hashing(
    local: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ContentStore(local) as first:
        [ref] = first.save_blobs([LARGE])
    assert local.exists(integrity.stamp_key(ContentStore.object_key(ref.key)))
    _no_hashing(monkeypatch)
    with ContentStore(local) as another_process:  # nothing remembered in memory
        [again] = another_process.save_blobs([LARGE])
    assert not again.written


def test_a_never_verified_large_blob_is_hashed_once_then_stamped(
    local: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ContentStore(local) as first:
        [ref] = first.save_blobs([LARGE])
    stamp = integrity.stamp_key(ContentStore.object_key(ref.key))
    local.delete(stamp)  # e.g. written by an older stepwell
    hashed: list[str] = []
    real = integrity.hash_raw_file

    def counting(path: pathlib.Path, key: str) -> tuple[str, int] | None:
        hashed.append(key)
        return real(path, key)

    monkeypatch.setattr(integrity, "hash_raw_file", counting)
    with ContentStore(local) as second:
        assert not second.save_blobs([LARGE])[0].written
        assert not second.save_blobs([LARGE])[0].written  # remembered in this process
    with ContentStore(local) as third:
        assert not third.save_blobs([LARGE])[0].written  # the stamp, in another process
    assert hashed == [ref.key]
    assert local.exists(stamp)


def test_small_stored_content_is_hashed_on_each_save_in_a_new_process(
    local: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ContentStore(local) as first:
        [ref] = first.save_blobs([SMALL])
    assert not local.exists(integrity.stamp_key(ContentStore.object_key(ref.key)))
    _no_hashing(monkeypatch)
    with ContentStore(local) as second, pytest.raises(AssertionError, match="hashed"):
        second.save_blobs([SMALL])


def test_check_blob_reports_ok_missing_and_damaged(
    store: ContentStore, local: LocalStorage
) -> None:
    good, bad = store.save_blobs([MAPPED, SMALL])
    _damage(_blob_file(local, bad.key))
    ok = store.check_blob(good.key)
    assert ok.status == "ok" and ok.size == len(MAPPED)
    assert ok.stored_bytes == len(MAPPED) + HEADER_SIZE
    damaged = store.check_blob(bad.key)
    assert damaged.status == "damaged" and "hashes to" in damaged.reason
    assert store.exists(bad.key), "checking alone moves nothing"
    assert store.check_blob("cd" * 32).status == "missing"


def test_check_blob_finds_a_damaged_compressed_blob(local: LocalStorage) -> None:
    payload = b"stepwell artifact " * 20_000
    with ContentStore(local, compress_local=True) as store:
        [ref] = store.save_blobs([payload])
        path = _blob_file(local, ref.key)
        assert path.stat().st_size < len(payload) // 10  # stored compressed
        assert store.check_blob(ref.key).status == "ok"
        _damage(path, offset=(HEADER_SIZE + path.stat().st_size) // 2)  # in the zstd frame
        check = store.check_blob(ref.key)
    assert check.status == "damaged"


def test_check_blob_stamps_a_large_blob_it_found_whole(local: LocalStorage) -> None:
    with ContentStore(local) as store:
        [ref] = store.save_blobs([LARGE])
        stamp = integrity.stamp_key(ContentStore.object_key(ref.key))
        local.delete(stamp)
        assert store.check_blob(ref.key).ok
    assert local.exists(stamp)


def test_quarantine_of_an_absent_blob_does_nothing_unless_asked_to_note_it(
    store: ContentStore, local: LocalStorage
) -> None:
    key = "ef" * 32
    assert store.quarantine(key, "gone", by="verify") is None
    assert _quarantined(local, key) == []
    note = store.quarantine(key, "missing", by="verify", uses=["artifact 'y'"], note_missing=True)
    assert note is not None and note.moved_to is None
    [saved] = store.quarantine_notes(key)
    assert saved.uses == ("artifact 'y'",)
    assert "stepwell verify found it missing" in saved.describe()


def test_notes_date_with_the_injected_clock(local: LocalStorage) -> None:
    with ContentStore(local, clock=lambda: 1_700_000_000.0) as store:
        [ref] = store.save_blobs([SMALL])
        note = store.quarantine(ref.key, "test", by="verify")
    assert note is not None and note.when == "2023-11-14 22:13:20 UTC"
    assert note.moved_to is not None and "/20231114T221320.000000Z-" in note.moved_to


def test_on_a_remote_store_a_corrupt_read_quarantines_and_the_cache_can_restore(
    tmp_path: pathlib.Path,
) -> None:
    remote = MemoryStorage()
    cache = LocalStorage(tmp_path / "cache")
    with ContentStore(remote, cache=cache) as store:
        [ref] = store.save_blobs([MAPPED])
        object_key = ContentStore.object_key(ref.key)
        blob = bytearray(remote.load_bytes(object_key))
        blob[-1] ^= 0xFF
        remote.save_bytes(object_key, bytes(blob), overwrite=True)
        assert store.check_blob(ref.key).status == "damaged"
        reader = ContentStore(remote)  # another machine: no cached copy
        with pytest.raises(CorruptBlobError, match="quarantine"):
            reader.load_blob(ref.key)
        assert not remote.exists(object_key)
        assert store.restore_from_cache(ref.key)
        assert store.check_blob(ref.key).status == "ok"
        assert bytes(reader.load_blob(ref.key)) == MAPPED


@pytest.mark.parametrize("payload", [b"small value " * 10, LARGE])
def test_an_old_blob_saved_again_is_made_recent_for_gc(
    local: LocalStorage, monkeypatch: pytest.MonkeyPatch, payload: bytes
) -> None:
    with ContentStore(local) as first:
        [ref] = first.save_blobs([payload])
    path = _blob_file(local, ref.key)
    two_hours_ago = time.time() - 7200
    os.utime(path, (two_hours_ago, two_hours_ago))
    with ContentStore(local) as later:  # a run storing the same value again
        [again] = later.save_blobs([payload])
    assert not again.written
    assert time.time() - path.stat().st_mtime < 60  # gc's grace period counts from now
    if len(payload) >= integrity.STAMP_MIN_BYTES:  # still trusted without hashing
        _no_hashing(monkeypatch)
        with ContentStore(local) as third:
            [once_more] = third.save_blobs([payload])
        assert not once_more.written
