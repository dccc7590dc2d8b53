"""Typed serializers: NumPy arrays as raw buffers, DataFrames and Arrow tables as Arrow IPC.

NumPy, pandas and pyarrow are imported only when an object of theirs shows
up, never when stepwell is imported. Both formats load without copying from
the blob's buffer: a loaded array is a view of the copy-on-write memory map
of the blob, writable, with pages copied only when written.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from typing import Any

from stepwell.exceptions import SerializationError
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
        return [memoryview(_ipc_stream(table))], meta

    def load(self, buffer: BufferLike, meta: Mapping[str, Any]) -> object:
        require_pyarrow()
        import pyarrow as pa

        table = pa.ipc.open_stream(pa.py_buffer(buffer)).read_all()
        if meta.get("kind") == "table":
            return table
        return _restore_pandas_extras(table.to_pandas(), table, meta)


def _ipc_stream(table: Any) -> Any:
    """The table as one Arrow IPC stream buffer, written once into a buffer of the exact size.

    Measuring first (a mock stream only adds up sizes) avoids the repeated
    reallocations of a growing buffer, which cost ~10x the write itself.
    """
    import pyarrow as pa

    mock = pa.MockOutputStream()
    with pa.ipc.new_stream(mock, table.schema) as writer:
        writer.write_table(table)
    buffer = pa.allocate_buffer(mock.size())
    with pa.ipc.new_stream(pa.FixedSizeBufferWriter(buffer), table.schema) as writer:
        writer.write_table(table)
    return buffer


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
