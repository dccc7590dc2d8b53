"""Typed serializers: NumPy arrays as raw buffers, DataFrames and Arrow tables as Arrow IPC.

NumPy, pandas and pyarrow are imported only when an object of theirs shows
up, never when stepwell is imported. Both formats load without copying from
the blob's buffer: a loaded array is a view of the copy-on-write memory map
of the blob, writable, with pages copied only when written.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from stepwell.exceptions import SerializationError

if TYPE_CHECKING:  # the storage layer is not needed to (de)serialize
    from stepwell.store._storage import BufferLike


def _module_of(obj: object) -> str:
    return type(obj).__module__ or ""


class NumpySerializer:
    """A plain ``numpy.ndarray`` of a non-object, non-structured dtype, as its raw bytes.

    Meta: ``dtype`` (``dtype.str``), ``shape`` and ``fortran`` (bytes in Fortran
    order). C- and Fortran-contiguous arrays are written without a copy; other
    strided views are made C-contiguous first.
    """

    name = "numpy"

    def can_serialize(self, obj: object) -> bool:
        if not _module_of(obj).startswith("numpy"):
            return False
        import numpy as np

        if type(obj) is not np.ndarray:  # subclasses (matrix, masked arrays) go to pickle
            return False
        dtype = obj.dtype
        return not dtype.hasobject and dtype.names is None and dtype.subdtype is None

    def dump(self, obj: Any) -> tuple[list[BufferLike], dict[str, Any]]:
        import numpy as np

        fortran = bool(obj.ndim > 1 and obj.flags.f_contiguous and not obj.flags.c_contiguous)
        array = obj.T if fortran else np.ascontiguousarray(obj)
        flat: Any = array.reshape(-1).view(
            np.uint8
        )  # works for datetimes, which memoryview refuses
        meta = {"dtype": obj.dtype.str, "shape": list(obj.shape), "fortran": fortran}
        return [memoryview(flat)], meta

    def load(self, buffer: BufferLike, meta: Mapping[str, Any]) -> object:
        import numpy as np

        dtype = np.dtype(meta["dtype"])
        shape = tuple(meta["shape"])
        stored_shape = shape[::-1] if meta["fortran"] else shape
        count = 1
        for dim in shape:
            count *= dim
        if count == 0 or dtype.itemsize == 0:
            array = np.empty(stored_shape, dtype=dtype)
        else:
            array = np.frombuffer(buffer, dtype=dtype, count=count).reshape(stored_shape)
        return array.T if meta["fortran"] else array


class ArrowSerializer:
    """A ``pandas.DataFrame`` or ``pyarrow.Table`` as an uncompressed Arrow IPC stream.

    DataFrames go through ``pyarrow.Table.from_pandas``, which records the
    index, column names and dtypes in the schema's pandas metadata, and come
    back through ``Table.to_pandas()``. A frame Arrow cannot represent
    (mixed-type object columns, duplicate column names, ...) is declined and
    falls through to pickle. Needs ``pyarrow`` (``pip install 'stepwell[arrow]'``);
    without it, frames are pickled.
    """

    name = "arrow"

    def can_serialize(self, obj: object) -> bool:
        module = _module_of(obj)
        if not module.startswith(("pandas", "pyarrow")) or not _has_pyarrow():
            return False
        if module.startswith("pandas"):
            import pandas as pd

            return type(obj) is pd.DataFrame
        import pyarrow as pa

        return type(obj) is pa.Table

    def dump(self, obj: Any) -> tuple[list[BufferLike], dict[str, Any]]:
        import pyarrow as pa

        kind = "table" if isinstance(obj, pa.Table) else "pandas"
        try:
            table = obj if kind == "table" else pa.Table.from_pandas(obj, preserve_index=None)
        except (pa.ArrowException, ValueError, TypeError) as err:
            raise NotImplementedError(f"Arrow cannot represent this frame: {err}") from err
        meta = {"kind": kind} if kind == "table" else {"kind": kind, **_pandas_extras(obj)}
        return _ipc_stream(table), meta

    def load(self, buffer: BufferLike, meta: Mapping[str, Any]) -> object:
        require_pyarrow()
        import pyarrow as pa

        source = pa.py_buffer(buffer)
        table = pa.ipc.open_stream(source).read_all()
        if meta.get("kind") == "table":
            return table
        if not source.is_mutable:  # Arrow's zero-copy columns could not be made writable
            return _restore_pandas_extras(table.to_pandas(), table, meta)
        return _restore_pandas_extras(_writable_frame(table, buffer, source), table, meta)


class _IpcSink:
    """A write-only file object that keeps what it is given, for ``pyarrow.PythonFile``.

    Arrow writes an IPC stream's small framing pieces as ``bytes`` and each body
    buffer as a ``pyarrow.Buffer`` over the table's own memory, so collecting the
    pieces gives the stream as buffers without copying any column.
    """

    closed = False

    def __init__(self) -> None:
        self.parts: list[BufferLike] = []
        self._small = bytearray()

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        if view.nbytes < _SMALL_PART:  # framing: join into one part
            self._small += view
        else:
            self._end_small()
            self.parts.append(view)
        return view.nbytes

    def _end_small(self) -> None:
        if self._small:
            self.parts.append(bytes(self._small))
            self._small.clear()

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self._end_small()

    def result(self) -> list[BufferLike]:
        self._end_small()
        return self.parts


#: IPC writes below this size (framing, padding, tiny columns) are joined into one part.
_SMALL_PART = 64 << 10


def _ipc_stream(table: Any) -> list[BufferLike]:
    """The table as an Arrow IPC stream: a list of buffers whose concatenation is the stream.

    Column buffers are the table's own memory (no copy; for a DataFrame whose
    columns are contiguous, ``Table.from_pandas`` does not copy either), so
    serializing costs no more than hashing what is then stored.
    """
    import pyarrow as pa

    sink = _IpcSink()
    with pa.ipc.new_stream(pa.PythonFile(sink, mode="w"), table.schema) as writer:
        writer.write_table(table)
    return sink.result()


def _writable_frame(table: Any, buffer: BufferLike, source: Any) -> Any:
    """``table.to_pandas()`` without copying numeric columns, which stay writable.

    Arrow converts a null-free numeric column without a copy but hands it out
    read-only. Those columns are re-wrapped here as writable NumPy views of the
    same memory (the blob's copy-on-write map: writing copies the touched pages,
    the blob never changes), one block per column, so a step can modify the
    frame in place as it could the frame it saved. Everything else is converted
    by Arrow as usual. ``buffer`` is the writable payload the table was read
    from, ``source`` the Arrow buffer over it.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    df = table.to_pandas(split_blocks=True)
    columns: dict[int, Any] = {}
    swapped = False
    for position in range(df.shape[1]):  # data columns come first in the table
        found = _writable_column(table.column(position), df.dtypes.iloc[position], np, pa)
        array = None
        if found is not None:  # the same bytes, through the writable payload
            dtype, count, address = found
            offset = address - source.address
            array = np.frombuffer(buffer, dtype, count, offset) if offset >= 0 else None
        swapped = swapped or array is not None
        columns[position] = df.iloc[:, position] if array is None else array
    if not swapped:
        return df
    block = _one_block(list(columns.values()), np)
    if block is not None:  # one 2-D block, as the saved frame most likely had: to_numpy() is free
        frame = pd.DataFrame(block.T, index=df.index, copy=False)
    else:
        frame = pd.DataFrame(columns, index=df.index, copy=False)
    frame.columns = df.columns
    frame.attrs = df.attrs
    return frame


def _one_block(arrays: list[Any], np: Any) -> Any:
    """The arrays as rows of one 2-D view when they are NumPy arrays of one dtype lying
    back to back in memory (an IPC body of null-free columns of one type), else None."""
    first = arrays[0] if arrays else None
    if not isinstance(first, np.ndarray) or len(arrays) < 2:
        return None
    step = first.nbytes
    start = first.ctypes.data
    for i, array in enumerate(arrays):
        if not isinstance(array, np.ndarray) or array.dtype != first.dtype:
            return None
        if array.ctypes.data != start + i * step or array.nbytes != step:
            return None
    strides = (step, first.dtype.itemsize)
    return np.lib.stride_tricks.as_strided(first, (len(arrays), len(first)), strides)


def _writable_column(column: Any, dtype: Any, np: Any, pa: Any) -> tuple[Any, int, int] | None:
    """(dtype, length, data address) of a single-chunk, null-free numeric column, else None."""
    kind = column.type
    if (
        column.num_chunks != 1
        or column.null_count
        or not (pa.types.is_integer(kind) or pa.types.is_floating(kind))
    ):
        return None
    chunk = column.chunk(0)
    data = chunk.buffers()[1]
    numpy_dtype = np.dtype(kind.to_pandas_dtype())
    if numpy_dtype != dtype or data is None:
        return None
    return numpy_dtype, len(chunk), data.address + chunk.offset * numpy_dtype.itemsize


def _pandas_extras(df: Any) -> dict[str, Any]:
    """What Arrow's pandas metadata does not bring back; recorded in the artifact's meta.

    Object columns (and an object index) come back as ``str`` columns under
    pandas >= 3, a RangeIndex of column labels as a plain Index, and a
    DatetimeIndex loses its ``freq``.
    """
    import numpy as np

    extras: dict[str, Any] = {}
    object_columns = [i for i, dtype in enumerate(df.dtypes) if _is_object(dtype, np)]
    if object_columns:
        extras["object_columns"] = object_columns
    if df.index.nlevels == 1 and _is_object(df.index.dtype, np):
        extras["object_index"] = True
    if type(df.columns).__name__ == "RangeIndex":
        columns = df.columns
        extras["column_range"] = [columns.start, columns.stop, columns.step]
    timelike = type(df.index).__name__ in ("DatetimeIndex", "TimedeltaIndex")
    freq = df.index.freqstr if timelike else None
    if freq:
        extras["index_freq"] = freq
    return extras


def _restore_pandas_extras(df: Any, table: Any, meta: Mapping[str, Any]) -> Any:
    import numpy as np
    import pandas as pd

    for position in meta.get("object_columns", ()):
        if not _is_object(df.dtypes.iloc[position], np):  # data columns come first
            values = table.column(position).to_numpy(zero_copy_only=False)
            df.isetitem(position, pd.Series(values, index=df.index, dtype=object, copy=False))
    if meta.get("object_index") and not _is_object(df.index.dtype, np):
        df.index = df.index.astype(object)
    if "column_range" in meta:
        df.columns = pd.RangeIndex(*meta["column_range"])
    if "index_freq" in meta:
        df.index = type(df.index)(df.index, freq=meta["index_freq"])
    return df


def _is_object(dtype: Any, np: Any) -> bool:
    return isinstance(dtype, np.dtype) and dtype.kind == "O"


def _has_pyarrow() -> bool:
    try:
        return importlib.util.find_spec("pyarrow") is not None
    except (ImportError, ValueError):
        return False


def require_pyarrow() -> None:
    """Raise a SerializationError saying how to install pyarrow when it is missing."""
    if not _has_pyarrow():
        raise SerializationError(
            "This artifact is stored as Arrow and loading it needs the 'pyarrow' package. "
            "Install it with: pip install 'stepwell[arrow]'"
        )
