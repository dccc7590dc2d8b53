"""Serializers: typed round trips, zero-copy loading, the pickle fallback and its errors."""

from __future__ import annotations

import ast
import dataclasses
import mmap
import pathlib
import threading
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import stepwell.store
from stepwell.exceptions import SerializationError
from stepwell.store import ContentStore, Serialized, SerializerRegistry, deserialize, serialize
from stepwell.store._pickle_serializer import PickleSerializer


@dataclasses.dataclass
class Point:
    x: int
    y: list[int]


def _round_trip(obj: object) -> tuple[Serialized, Any]:
    """Serialize, join the buffers as the store would, and load back."""
    serialized = serialize(obj)
    payload = b"".join(memoryview(b).cast("B") for b in serialized.buffers)
    assert len(payload) == serialized.size
    return serialized, deserialize(serialized.serializer, payload, serialized.meta)


def _through_store(store: ContentStore, obj: object) -> Any:
    serialized = serialize(obj)
    [ref] = store.save_blobs([serialized.buffers])
    return deserialize(serialized.serializer, store.load_blob(ref.key), serialized.meta)


def _backed_by_mmap(array: np.ndarray) -> bool:
    base: Any = array
    while isinstance(base, np.ndarray):
        base = base.base
    return isinstance(base, memoryview) and isinstance(base.obj, mmap.mmap)


@pytest.mark.parametrize(
    "dtype",
    ["<f8", "<f4", "<f2", "|i1", "<u8", ">i4", "|b1", "<c16", "<M8[ns]", "<m8[s]", "<U5", "|S3"],
)
def test_numpy_arrays_round_trip_by_dtype(dtype: str) -> None:
    array = np.arange(24).reshape(2, 3, 4).astype(dtype)
    serialized, loaded = _round_trip(array)
    assert serialized.serializer == "numpy"
    assert serialized.type_name == "numpy.ndarray"
    assert serialized.meta == {"dtype": np.dtype(dtype).str, "shape": [2, 3, 4], "fortran": False}
    assert loaded.dtype == array.dtype
    np.testing.assert_array_equal(loaded, array)


@pytest.mark.parametrize(
    "array",
    [np.array(3.5), np.zeros((0, 3)), np.array([], dtype="<U4"), np.arange(5)[::2]],
    ids=["0-d", "empty", "empty-strings", "strided"],
)
def test_numpy_edge_shapes_round_trip(array: np.ndarray) -> None:
    serialized, loaded = _round_trip(array)
    assert serialized.serializer == "numpy"
    assert loaded.shape == array.shape
    assert loaded.dtype == array.dtype
    np.testing.assert_array_equal(loaded, array)


def test_fortran_arrays_keep_their_order_without_a_copy() -> None:
    array = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    serialized, loaded = _round_trip(array)
    assert serialized.meta["fortran"] is True
    assert np.shares_memory(np.asarray(serialized.buffers[0]), array)
    assert loaded.flags.f_contiguous and not loaded.flags.c_contiguous
    np.testing.assert_array_equal(loaded, array)


def test_non_contiguous_views_are_made_contiguous() -> None:
    base = np.arange(100.0).reshape(10, 10)
    view = base[::2, 1:7]
    serialized, loaded = _round_trip(view)
    assert serialized.size == view.size * 8
    np.testing.assert_array_equal(loaded, view)


def test_numpy_arrays_load_as_writable_views_of_the_memory_map(store: ContentStore) -> None:
    array = np.random.default_rng(0).random(50_000)
    loaded = _through_store(store, array)
    np.testing.assert_array_equal(loaded, array)
    assert _backed_by_mmap(loaded)
    loaded[0] = -1.0  # copy-on-write: the step may modify what it loaded
    np.testing.assert_array_equal(_through_store(store, array), array)


@pytest.mark.parametrize(
    "obj",
    [np.array([1, "a"], dtype=object), np.ma.masked_array([1, 2], mask=[0, 1]), np.float64(2.5)],
    ids=["object-dtype", "masked", "scalar"],
)
def test_numpy_values_the_raw_format_cannot_hold_are_pickled(obj: Any) -> None:
    serialized, loaded = _round_trip(obj)
    assert serialized.serializer == "pickle"
    assert type(loaded) is type(obj)
    np.testing.assert_array_equal(np.ma.getdata(loaded), np.ma.getdata(obj))
    if isinstance(obj, np.ma.MaskedArray):
        np.testing.assert_array_equal(loaded.mask, obj.mask)


def test_arrays_inside_containers_are_pickled_out_of_band(store: ContentStore) -> None:
    value = {"weights": np.random.default_rng(1).random(40_000), "shape": [3, (4, 5)]}
    serialized = serialize(value)
    assert serialized.serializer == "pickle"
    assert any(np.shares_memory(np.asarray(b), value["weights"]) for b in serialized.buffers)
    loaded = _through_store(store, value)
    assert loaded["shape"] == [3, (4, 5)]
    np.testing.assert_array_equal(loaded["weights"], value["weights"])
    assert _backed_by_mmap(loaded["weights"])  # not copied out of the blob
    assert loaded["weights"].ctypes.data % 64 == 0  # aligned for SIMD


def test_several_out_of_band_buffers_keep_their_boundaries() -> None:
    value = [np.arange(n, dtype="<i2") for n in (1, 7, 64, 65, 0)] + [bytearray(b"xyz")]
    _, loaded = _round_trip(value)
    assert len(loaded) == len(value)
    for got, want in zip(loaded, value, strict=True):
        assert type(got) is type(want)
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


def _frame() -> pd.DataFrame:
    index = pd.Index([10, 20, 30, 40], name="row_id")
    frame = pd.DataFrame(
        {
            "ints": np.array([1, 2, 3, 4], dtype="int32"),
            "floats": [0.5, np.nan, 2.5, 3.5],
            "text": ["a", "b", None, "d"],
            "when": pd.date_range("2024-01-01", periods=4, freq="h", tz="UTC"),
            "naive": pd.to_datetime(["2020-01-01", "2021-06-30", None, "2022-12-31"]),
            "kind": pd.Categorical(["x", "y", "x", "z"], categories=["z", "y", "x"], ordered=True),
            "flag": [True, False, True, True],
            "maybe": pd.array([1, None, 3, 4], dtype="Int64"),
        },
        index=index,
    )
    frame["objects"] = pd.Series(["p", None, "q", "r"], dtype=object, index=index)
    return frame


def test_dataframes_round_trip_as_arrow() -> None:
    frame = _frame()
    serialized, loaded = _round_trip(frame)
    assert serialized.serializer == "arrow"
    assert serialized.type_name == "pandas.DataFrame"
    pd.testing.assert_frame_equal(loaded, frame, check_index_type=True, check_column_type=True)
    assert list(loaded.dtypes) == list(frame.dtypes)


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({"a": [1, 2]}, index=pd.RangeIndex(5, 9, 2, name="r")),
        pd.DataFrame({"a": [1, 2]}, index=pd.date_range("2021", periods=2, name="day")),
        pd.DataFrame({"a": [1.0]}, index=pd.Index(["k"], dtype=object)),
        pd.DataFrame(np.ones((2, 2)), columns=pd.MultiIndex.from_tuples([("a", 1), ("a", 2)])),
        pd.DataFrame(
            {"v": [1, 2]}, index=pd.MultiIndex.from_tuples([("a", 1), ("b", 2)], names=["k", "n"])
        ),
        pd.DataFrame(np.eye(3)),
        pd.DataFrame(),
    ],
    ids=["range-index", "freq-index", "object-index", "multi-columns", "multi-index", "int", "0"],
)
def test_dataframe_indexes_and_labels_round_trip(frame: pd.DataFrame) -> None:
    serialized, loaded = _round_trip(frame)
    assert serialized.serializer == "arrow"
    pd.testing.assert_frame_equal(loaded, frame, check_index_type=True, check_column_type=True)


@pytest.mark.parametrize(
    "frame",
    [
        _frame(),
        pd.DataFrame({"a": [1, 2]}, index=pd.RangeIndex(5, 9, 2, name="r")),
        pd.DataFrame(np.ones((2, 2)), columns=pd.MultiIndex.from_tuples([("a", 1), ("a", 2)])),
        pd.DataFrame({"u": np.arange(3, dtype="uint16"), "f": np.ones(3, dtype="float32")}),
        pd.DataFrame(np.eye(3)),
        pd.DataFrame(),
    ],
    ids=["mixed-dtypes", "range-index", "multi-columns", "small-ints", "int", "0"],
)
def test_dataframes_round_trip_through_the_store(store: ContentStore, frame: pd.DataFrame) -> None:
    loaded = _through_store(store, frame)
    pd.testing.assert_frame_equal(loaded, frame, check_index_type=True, check_column_type=True)
    assert list(loaded.dtypes) == list(frame.dtypes)


def test_dataframe_columns_are_written_without_a_copy() -> None:
    frame = pd.DataFrame({"x": np.arange(100_000.0), "y": np.ones(100_000)})
    serialized = serialize(frame)
    addresses = {np.frombuffer(b, dtype=np.uint8).ctypes.data for b in serialized.buffers if len(b)}
    assert frame["x"].to_numpy().ctypes.data in addresses  # the column's own memory


def test_numeric_frame_columns_load_as_writable_views_of_the_memory_map(
    store: ContentStore,
) -> None:
    frame = pd.DataFrame({"x": np.arange(100_000.0), "n": np.arange(100_000), "s": "t"})
    serialized = serialize(frame)
    [ref] = store.save_blobs([serialized.buffers])
    blob = store.load_blob(ref.key)
    loaded = deserialize("arrow", blob, serialized.meta)
    start = np.frombuffer(blob, dtype=np.uint8).ctypes.data
    for name in ("x", "n"):  # zero copy: the columns live in the blob's memory map
        assert start <= loaded[name].to_numpy().ctypes.data < start + len(blob)
    loaded.loc[0, "x"] = -1.0  # a step may modify the frame in place...
    loaded["n"] += 1
    assert loaded["x"].iloc[0] == -1.0 and loaded["n"].iloc[0] == 1
    again = deserialize("arrow", store.load_blob(ref.key), serialized.meta)
    pd.testing.assert_frame_equal(again, frame)  # ...the stored blob never changes


@pytest.mark.parametrize(
    "frame",
    [pd.DataFrame({"mixed": [1, "two", 3.0]}), pd.DataFrame([[1, 2]], columns=["a", "a"])],
    ids=["mixed-objects", "duplicate-columns"],
)
def test_frames_arrow_cannot_represent_fall_back_to_pickle(frame: pd.DataFrame) -> None:
    serialized, loaded = _round_trip(frame)
    assert serialized.serializer == "pickle"
    pd.testing.assert_frame_equal(loaded, frame)


def test_arrow_tables_round_trip_zero_copy(store: ContentStore) -> None:
    table = pa.table({"n": pa.array(np.arange(20_000)), "s": [str(i) for i in range(20_000)]})
    serialized, loaded = _round_trip(table)
    assert (serialized.serializer, serialized.type_name) == ("arrow", "pyarrow.lib.Table")
    assert isinstance(loaded, pa.Table) and loaded.equals(table)
    [ref] = store.save_blobs([serialized.buffers])
    blob = store.load_blob(ref.key)
    from_store = deserialize("arrow", blob, serialized.meta)
    assert from_store.equals(table)
    start = np.frombuffer(blob, dtype=np.uint8).ctypes.data
    data_address = from_store.column("n").chunk(0).buffers()[1].address
    assert start <= data_address < start + len(blob)  # the column lives in the memory map


@pytest.mark.parametrize(
    "obj",
    [None, 42, "text", b"raw", [1, 2.5, "x"], {"a": (1, {2, 3})}, Point(1, [2, 3]), 10**40],
    ids=lambda o: type(o).__name__,
)
def test_plain_python_objects_round_trip_through_pickle(obj: object) -> None:
    serialized, loaded = _round_trip(obj)
    assert serialized.serializer == "pickle"
    assert serialized.type_name == f"{type(obj).__module__}.{type(obj).__qualname__}"
    assert loaded == obj and type(loaded) is type(obj)


def _generator() -> Any:
    yield 1


@pytest.mark.parametrize(
    ("obj", "type_text"),
    [
        (lambda x: x, "function"),
        (threading.Lock(), "lock"),
        (_generator(), "generator"),
        ({"nested": threading.Lock()}, "builtins.dict"),
    ],
    ids=["lambda", "lock", "generator", "nested-lock"],
)
def test_unpicklable_values_raise_serialization_error_naming_the_type(
    obj: object, type_text: str
) -> None:
    with pytest.raises(SerializationError, match=type_text) as caught:
        serialize(obj)
    assert "Store a picklable value instead" in str(caught.value)
    assert caught.value.fields["type_name"].endswith(type(obj).__qualname__)


def test_unknown_serializer_names_are_reported() -> None:
    with pytest.raises(SerializationError, match=r"Unknown serializer 'feather'.*numpy, arrow"):
        deserialize("feather", b"", {})


def test_a_damaged_pickle_frame_raises_serialization_error() -> None:
    serialized = serialize({"a": np.arange(1000)})
    payload = b"".join(memoryview(b).cast("B") for b in serialized.buffers)
    with pytest.raises(SerializationError, match="payload holds"):
        deserialize("pickle", payload[:200], serialized.meta)


def test_a_serializer_may_decline_and_the_next_one_is_tried() -> None:
    class Declining:
        name = "declining"

        def can_serialize(self, obj: object) -> bool:
            return True

        def dump(self, obj: object) -> Any:
            raise NotImplementedError

        def load(self, buffer: Any, meta: Any) -> object:
            raise AssertionError("never called")

    registry = SerializerRegistry([Declining(), PickleSerializer()])
    assert registry.serialize([1]).serializer == "pickle"
    with pytest.raises(SerializationError, match="No serializer takes"):
        SerializerRegistry([Declining()]).serialize([1])


def test_store_modules_do_not_import_numpy_pandas_or_pyarrow_at_import_time() -> None:
    heavy = {"numpy", "pandas", "pyarrow"}
    package = pathlib.Path(stepwell.store.__file__).parent
    for module in package.glob("*.py"):
        tree = ast.parse(module.read_text())
        for node in tree.body:  # top-level statements only
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not {n.split(".")[0] for n in names} & heavy, module.name


def test_a_frame_of_one_numeric_dtype_loads_as_one_block_in_the_memory_map(
    store: ContentStore,
) -> None:
    frame = pd.DataFrame(np.arange(40_000.0).reshape(10_000, 4), columns=list("abcd"))
    serialized = serialize(frame)
    [ref] = store.save_blobs([serialized.buffers])
    blob = store.load_blob(ref.key)
    loaded = deserialize("arrow", blob, serialized.meta)
    pd.testing.assert_frame_equal(loaded, frame)
    start = np.frombuffer(blob, dtype=np.uint8).ctypes.data
    values = loaded.to_numpy()  # one 2-D block: a view, not a copy
    assert start <= values.ctypes.data < start + len(blob)
    loaded.iloc[0, 1] = -1.0
    assert loaded.iloc[0, 1] == -1.0  # writable; the stored blob is not:
    pd.testing.assert_frame_equal(deserialize("arrow", store.load_blob(ref.key), {}), frame)
