"""A value read from a local blob and saved again unwritten is known without hashing it again;
any change in place, in layout or in size is hashed and stored as new content."""

from __future__ import annotations

import gc
import mmap
import os
import pathlib

import numpy as np
import pandas as pd
import pytest

from stepwell.store import ContentStore, LocalStorage, _unwritten, load_artifact, save_artifacts
from stepwell.store import _blobformat as fmt

pytestmark = pytest.mark.skipif(
    not os.path.exists(_unwritten.PAGEMAP), reason="needs Linux's /proc/self/pagemap"
)

MIB = 1 << 20


@pytest.fixture
def store(tmp_path: pathlib.Path) -> ContentStore:
    return ContentStore(LocalStorage(tmp_path / "store"))


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the payloads the content store hashes from now on."""
    sizes: list[int] = []
    real = fmt.hash_buffers

    def spy(buffers: list[memoryview], size: int) -> str:
        sizes.append(size)
        return real(buffers, size)

    monkeypatch.setattr(fmt, "hash_buffers", spy)
    return sizes


def _big(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random(MIB // 8 * 3)  # 3 MiB of float64


def _roundtrip(store: ContentStore, value: object) -> tuple[str, object]:
    ref = save_artifacts(store, {"v": value})["v"]
    return ref.key, load_artifact(store, ref)


def test_pages_read_are_unwritten_and_a_page_written_is_not(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "blob"
    path.write_bytes(os.urandom(64 * mmap.PAGESIZE))
    with open(path, "rb") as f:
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    start = _unwritten.address(mapped)
    size = len(mapped)
    assert _unwritten.pages_unwritten(start, size)  # untouched
    array = np.frombuffer(mapped, dtype=np.uint8)
    assert int(array.sum()) >= 0
    assert _unwritten.pages_unwritten(start, size)  # read
    array[10 * mmap.PAGESIZE] = array[10 * mmap.PAGESIZE]  # the same value, written
    assert not _unwritten.pages_unwritten(start, size)
    assert _unwritten.pages_unwritten(start, 10 * mmap.PAGESIZE)  # the pages before it
    del array
    mapped.close()


def test_an_array_passed_on_unchanged_is_not_hashed_again(
    store: ContentStore, hashed: list[int]
) -> None:
    key, loaded = _roundtrip(store, _big())
    assert isinstance(loaded, np.ndarray) and float(loaded.sum()) > 0  # read, not written
    hashed.clear()
    again = save_artifacts(store, {"v": loaded})["v"]
    assert again.key == key
    assert hashed == []


def test_an_array_changed_in_place_is_hashed_and_stored_anew(
    store: ContentStore, hashed: list[int]
) -> None:
    original = _big()
    key, loaded = _roundtrip(store, original.copy())
    assert isinstance(loaded, np.ndarray)
    loaded[-1] += 1.0  # one value, in the last page
    hashed.clear()
    ref = save_artifacts(store, {"v": loaded})["v"]
    assert hashed == [loaded.nbytes]
    assert ref.key != key
    expected = original.copy()
    expected[-1] += 1.0
    np.testing.assert_array_equal(load_artifact(store, ref), expected)
    stored = save_artifacts(store, {"v": original})["v"]  # the first blob is still whole
    assert stored.key == key
    np.testing.assert_array_equal(load_artifact(store, stored), original)


def test_a_value_written_with_the_same_bytes_is_hashed_to_the_same_key(
    store: ContentStore, hashed: list[int]
) -> None:
    key, loaded = _roundtrip(store, _big())
    assert isinstance(loaded, np.ndarray)
    loaded[0] = loaded[0]
    hashed.clear()
    assert save_artifacts(store, {"v": loaded})["v"].key == key
    assert hashed == [loaded.nbytes]


def test_a_slice_or_a_reshape_of_a_loaded_array_is_stored_as_what_it_is(
    store: ContentStore, hashed: list[int]
) -> None:
    original = _big()
    key, loaded = _roundtrip(store, original)
    assert isinstance(loaded, np.ndarray)
    hashed.clear()
    refs = save_artifacts(store, {"tail": loaded[1000:], "square": loaded.reshape(3, -1)})
    assert refs["tail"].key != key and hashed == [loaded[1000:].nbytes]  # other bytes: hashed
    assert refs["square"].key == key  # the same bytes; the shape is in the ref
    np.testing.assert_array_equal(load_artifact(store, refs["tail"]), original[1000:])
    np.testing.assert_array_equal(load_artifact(store, refs["square"]), original.reshape(3, -1))


def test_a_dataframe_passed_on_unchanged_is_not_hashed_again(
    store: ContentStore, hashed: list[int]
) -> None:
    frame = pd.DataFrame(np.random.default_rng(1).random((100_000, 4)), columns=list("abcd"))
    key, loaded = _roundtrip(store, frame)
    assert isinstance(loaded, pd.DataFrame) and float(loaded["a"].sum()) > 0
    hashed.clear()
    assert save_artifacts(store, {"v": loaded})["v"].key == key
    assert hashed == []


@pytest.mark.parametrize("change", ["value", "new column", "renamed", "dropped row"])
def test_a_dataframe_changed_any_way_is_stored_as_it_is_now(
    store: ContentStore, hashed: list[int], change: str
) -> None:
    frame = pd.DataFrame(np.random.default_rng(2).random((100_000, 4)), columns=list("abcd"))
    key, loaded = _roundtrip(store, frame)
    assert isinstance(loaded, pd.DataFrame)
    if change == "value":
        loaded.iloc[5, 2] = -1.0
    elif change == "new column":
        loaded["e"] = 1.0
    elif change == "renamed":
        loaded.columns = ["a", "b", "c", "z"]
    else:
        loaded = loaded.iloc[1:]
    expected = loaded.copy()
    hashed.clear()
    ref = save_artifacts(store, {"v": loaded})["v"]
    assert ref.key != key and len(hashed) == 1
    pd.testing.assert_frame_equal(load_artifact(store, ref), expected)


def test_without_the_kernels_word_everything_is_hashed(
    store: ContentStore, hashed: list[int], monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    monkeypatch.setattr(_unwritten, "PAGEMAP", str(tmp_path / "no-pagemap"))
    key, loaded = _roundtrip(store, _big())
    hashed.clear()
    assert save_artifacts(store, {"v": loaded})["v"].key == key
    assert hashed == [MIB * 3]


def test_an_unverified_read_is_not_trusted(store: ContentStore, hashed: list[int]) -> None:
    ref = save_artifacts(store, {"v": _big()})["v"]
    loaded = load_artifact(store, ref, verify=False)
    hashed.clear()
    assert save_artifacts(store, {"v": loaded})["v"].key == ref.key
    assert hashed == [MIB * 3]


def test_a_map_no_value_uses_is_forgotten(store: ContentStore) -> None:
    _, loaded = _roundtrip(store, _big())
    maps = store._mapped_blobs
    assert maps is not None and len(maps._maps) == 1
    del loaded
    gc.collect()
    assert maps._maps == {}


def test_a_kernel_that_hides_page_entries_turns_it_off(
    store: ContentStore, hashed: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Entries of all zeros would read as pages never touched: the probe sees a written page
    # reported as unwritten and nothing is trusted in this process.
    monkeypatch.setattr(_unwritten, "PAGEMAP", "/dev/zero")
    monkeypatch.setattr(_unwritten, "_shows_writes", None)
    key, loaded = _roundtrip(store, _big())
    hashed.clear()
    assert save_artifacts(store, {"v": loaded})["v"].key == key
    assert hashed == [MIB * 3]
    assert _unwritten._shows_writes is False


def test_this_kernel_shows_writes() -> None:
    assert _unwritten._probe()
