"""ContentStore: addressing, dedup, parallel saves, verification, compression, memory maps."""

from __future__ import annotations

import mmap
import os
import pathlib
from collections.abc import Iterator

import blake3
import pytest
from store_doubles import CountingStorage, MemoryStorage

from stepwell.exceptions import BlobNotFoundError, CorruptBlobError, StorageError
from stepwell.store import ContentStore, LocalStorage
from stepwell.store import _blobformat as fmt
from stepwell.store._blobformat import HEADER_SIZE

COMPRESSIBLE = b"stepwell artifact " * 20_000  # ~350 KiB of repetition
CODEC_OFFSET = 5  # the codec byte in the blob header


@pytest.fixture
def packing(local: LocalStorage) -> Iterator[ContentStore]:
    """A store that compresses on local disk too (by default only remote blobs are)."""
    with ContentStore(local, compress_local=True) as content_store:
        yield content_store


def _blob_file(local: LocalStorage, key: str) -> pathlib.Path:
    return local.root / "objects" / key[:2] / key[2:]


def _flip_byte(path: pathlib.Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def test_key_is_the_blake3_of_the_payload_under_a_fanned_out_path(
    store: ContentStore, local: LocalStorage
) -> None:
    [ref] = store.save_blobs([b"hello"])
    assert ref.key == blake3.blake3(b"hello").hexdigest()
    assert ref.size == 5
    assert list(local.list()) == [f"objects/{ref.key[:2]}/{ref.key[2:]}"]
    assert bytes(store.load_blob(ref.key)) == b"hello"


def test_a_list_of_buffers_is_addressed_as_its_concatenation(store: ContentStore) -> None:
    [joined] = store.save_blobs([b"header+payload"])
    [parts] = store.save_blobs([[b"header", memoryview(b"+payload")]])
    assert joined.key == parts.key
    assert joined.written and not parts.written  # the second save found the blob stored


def test_same_content_is_stored_once(store: ContentStore, local: LocalStorage) -> None:
    refs = store.save_blobs([COMPRESSIBLE, b"other", COMPRESSIBLE])
    refs += store.save_blobs([COMPRESSIBLE])
    assert refs[0].key == refs[2].key == refs[3].key
    assert len(list(local.list("objects/"))) == 2
    assert refs[3].written is False


def test_save_blobs_writes_in_parallel_and_keeps_order(tmp_path: pathlib.Path) -> None:
    counting = CountingStorage(LocalStorage(tmp_path))
    payloads = [f"payload {i}".encode() * 20_000 for i in range(24)]  # ~5 MB: parallel
    with ContentStore(counting, max_threads=4) as store:
        refs = store.save_blobs(payloads)
        assert [bytes(store.load_blob(r.key)) for r in refs] == payloads
    assert counting.calls["save_bytes"] == 24
    assert len(counting.saving_threads) > 1
    assert all(name.startswith("stepwell-store") for name in counting.saving_threads)


def test_empty_input_and_empty_payload(store: ContentStore) -> None:
    assert store.save_blobs([]) == []
    [ref] = store.save_blobs([b""])
    assert ref.size == 0
    assert bytes(store.load_blob(ref.key)) == b""


@pytest.mark.parametrize(
    ("payload", "offset"),
    [
        (os.urandom(200_000), HEADER_SIZE + 100_000),  # uncompressed, memory-mapped
        (os.urandom(1000), HEADER_SIZE + 10),  # uncompressed, read
        (COMPRESSIBLE, -10),  # compressed
    ],
    ids=["mmap", "small", "zstd"],
)
def test_a_flipped_byte_is_detected_naming_the_key_and_context(
    packing: ContentStore, local: LocalStorage, payload: bytes, offset: int
) -> None:
    store = packing
    [ref] = store.save_blobs([payload])
    _flip_byte(_blob_file(local, ref.key), offset)
    context = "artifact 'model' of task TrainFlow/12/train/3"
    with pytest.raises(CorruptBlobError) as caught:
        store.load_blob(ref.key, context=context)
    assert ref.key in str(caught.value)
    assert context in str(caught.value)
    assert caught.value.fields["key"] == ref.key


def test_verify_false_skips_the_hash_check(store: ContentStore, local: LocalStorage) -> None:
    [ref] = store.save_blobs([b"a" * 100 + os.urandom(100)])
    _flip_byte(_blob_file(local, ref.key), HEADER_SIZE)
    assert bytes(store.load_blob(ref.key, verify=False))[:1] == bytes([ord("a") ^ 0xFF])


@pytest.mark.parametrize(
    ("damage", "message"),
    [(lambda b: b[:10], "shorter than its header"), (lambda b: b"XXXX" + b[4:], "header")],
)
def test_truncated_or_foreign_files_are_corrupt(
    store: ContentStore, local: LocalStorage, damage: object, message: str
) -> None:
    [ref] = store.save_blobs([b"payload" * 10])
    path = _blob_file(local, ref.key)
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    with pytest.raises(CorruptBlobError, match=message):
        store.load_blob(ref.key)


def test_compressible_payloads_are_compressed(packing: ContentStore, local: LocalStorage) -> None:
    store = packing
    [ref] = store.save_blobs([COMPRESSIBLE])
    blob = _blob_file(local, ref.key).read_bytes()
    assert blob[CODEC_OFFSET] == 1
    assert len(blob) < len(COMPRESSIBLE) // 10
    assert store.load_blob(ref.key) == COMPRESSIBLE


def test_large_payloads_are_judged_on_samples(packing: ContentStore, local: LocalStorage) -> None:
    store = packing
    big = [b"0123456789abcdef" * 65_536] * 8  # 8 MiB across several buffers
    [ref] = store.save_blobs([big])
    assert _blob_file(local, ref.key).read_bytes()[CODEC_OFFSET] == 1
    assert store.load_blob(ref.key) == b"".join(big)


def test_random_payloads_are_stored_uncompressed(
    packing: ContentStore, local: LocalStorage
) -> None:
    store = packing
    payload = os.urandom(1 << 20)
    [ref] = store.save_blobs([payload])
    blob = _blob_file(local, ref.key).read_bytes()
    assert blob[CODEC_OFFSET] == 0
    assert len(blob) == HEADER_SIZE + len(payload)


def test_small_payloads_are_never_compressed(packing: ContentStore, local: LocalStorage) -> None:
    [ref] = packing.save_blobs([b"z" * 2000])
    assert _blob_file(local, ref.key).read_bytes()[CODEC_OFFSET] == 0


def test_large_uncompressed_local_blobs_load_as_copy_on_write_memory_maps(
    store: ContentStore, local: LocalStorage
) -> None:
    payload = os.urandom(300_000)
    [ref] = store.save_blobs([payload])
    view = store.load_blob(ref.key)
    assert isinstance(view, memoryview)
    assert isinstance(view.obj, mmap.mmap)
    assert view == payload
    view[0] = payload[0] ^ 0xFF  # writable, like any loaded value...
    assert store.load_blob(ref.key) == payload  # ...but the stored blob never changes


def test_local_blobs_are_stored_raw_by_default_and_memory_mapped(
    store: ContentStore, local: LocalStorage
) -> None:
    [ref] = store.save_blobs([COMPRESSIBLE])  # compressible, but local disk is faster than zstd
    blob = _blob_file(local, ref.key).read_bytes()
    assert blob[CODEC_OFFSET] == 0 and len(blob) == HEADER_SIZE + len(COMPRESSIBLE)
    view = store.load_blob(ref.key)
    assert isinstance(view, memoryview) and isinstance(view.obj, mmap.mmap)
    assert view == COMPRESSIBLE


def test_remote_blobs_are_compressed_when_it_pays() -> None:
    remote = MemoryStorage()
    with ContentStore(remote) as store:
        [ref] = store.save_blobs([COMPRESSIBLE])
        blob = remote.load_bytes(ContentStore.object_key(ref.key))
        assert blob[CODEC_OFFSET] == 1 and len(blob) < len(COMPRESSIBLE) // 10
        assert store.load_blob(ref.key) == COMPRESSIBLE


def test_saving_stored_content_again_only_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    counting = CountingStorage(MemoryStorage())  # remote: new payloads would be compressed
    noise = os.urandom(5000)
    with ContentStore(counting) as store:
        first = store.save_blobs([COMPRESSIBLE, [b"x" * 5000, noise]])
        writes = counting.calls["save_bytes"]

        def refuse(*args: object) -> None:
            raise AssertionError("stored content was compressed or judged again")

        monkeypatch.setattr(fmt, "compress", refuse)
        monkeypatch.setattr(fmt, "should_compress", refuse)
        again = store.save_blobs([COMPRESSIBLE, [b"x" * 5000, memoryview(noise)]])
    assert counting.calls["save_bytes"] == writes  # nothing written the second time
    assert [r.key for r in again] == [r.key for r in first]
    assert not any(r.written for r in again)


def test_a_corrupt_compressed_blob_is_detected_on_a_remote_store() -> None:
    remote = MemoryStorage()
    with ContentStore(remote) as store:
        [ref] = store.save_blobs([COMPRESSIBLE])
        object_key = ContentStore.object_key(ref.key)
        damaged = bytearray(remote.load_bytes(object_key))
        damaged[-10] ^= 0xFF
        remote.save_bytes(object_key, damaged, overwrite=True)
        with pytest.raises(CorruptBlobError, match=ref.key):
            store.load_blob(ref.key)


class _BytearrayStorage(MemoryStorage):
    """Returns a fresh bytearray from load_bytes, as the S3 backend does."""

    def load_bytes(self, key: str) -> bytearray:  # type: ignore[override]
        return bytearray(super().load_bytes(key))


def test_a_bytearray_from_the_backend_is_used_without_another_copy() -> None:
    payload = os.urandom(300_000)
    with ContentStore(_BytearrayStorage()) as store:
        [ref] = store.save_blobs([payload])
        loaded = store.load_blob(ref.key)
        assert isinstance(loaded, memoryview) and isinstance(loaded.obj, bytearray)
        assert not loaded.readonly and loaded == payload
        assert len(loaded.obj) == HEADER_SIZE + len(payload)  # a view of the blob read


def test_small_or_compressed_blobs_load_as_writable_copies(packing: ContentStore) -> None:
    store = packing
    small, packed = store.save_blobs([b"tiny", COMPRESSIBLE])
    assert store.load_blob(small.key) == b"tiny"
    loaded = store.load_blob(packed.key)
    assert type(loaded) is bytearray and loaded == COMPRESSIBLE


def test_non_local_storage_round_trips_without_memory_maps() -> None:
    payload = os.urandom(300_000)
    with ContentStore(MemoryStorage()) as store:
        [ref, packed] = store.save_blobs([payload, COMPRESSIBLE])
        assert store.load_blob(ref.key) == payload
        assert type(store.load_blob(ref.key)) is bytearray
        assert store.load_blob(packed.key) == COMPRESSIBLE


def test_missing_blob_raises_blob_not_found_naming_it(store: ContentStore) -> None:
    key = blake3.blake3(b"never saved").hexdigest()
    with pytest.raises(BlobNotFoundError, match=key) as caught:
        store.load_blob(key, context="artifact 'x'")
    assert "artifact 'x'" in str(caught.value)
    assert not store.exists(key)


@pytest.mark.parametrize("key", ["../../etc/passwd", "ABC", "g" * 64, "a" * 63])
def test_keys_that_are_not_digests_are_rejected(store: ContentStore, key: str) -> None:
    with pytest.raises(StorageError, match="Invalid blob key"):
        store.load_blob(key)


def test_close_stops_the_pool_and_a_later_save_starts_another(store: ContentStore) -> None:
    big = [os.urandom(3 << 20), os.urandom(3 << 20)]  # over the inline-write threshold
    store.save_blobs(big)
    pool = store._pool
    assert pool is not None
    store.close()
    assert store._pool is None
    store.save_blobs([os.urandom(3 << 20), os.urandom(3 << 20)])
    assert store._pool is not None and store._pool is not pool


def test_small_sets_are_written_inline_without_threads(tmp_path: pathlib.Path) -> None:
    counting = CountingStorage(LocalStorage(tmp_path))
    with ContentStore(counting, max_threads=4) as store:
        store.save_blobs([b"a" * 100, b"b" * 100])
        assert store._pool is None
    assert counting.calls["save_bytes"] == 2
