"""A task attempt's logs, as the runtime writes them (one timestamped line per line).

A log is read from this machine's copy when there is one (the runtime writes
it as the task prints, so it is the freshest), else from the run's datastore,
where a remote run's logs are uploaded while its tasks run. The format and the
datastore layout are :mod:`stepwell.store._logs`'s, imported only when a log is
read (importing the store costs ~20 ms).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from typing import Any

STREAMS = ("stdout", "stderr")  # as stepwell.store._logs.STREAMS, without importing the store

__all__ = ["STREAMS", "log_bytes", "log_lines", "log_size", "read_text"]


def _places(backend: Any, run: Any, record: Any, stream: str) -> tuple[Any, Any, str]:
    """(this machine's file, the run's remote storage or None, the log's key)."""
    from stepwell.store._logs import log_key

    key = log_key(record.flow_name, record.run_id, record.step_name, record.task_id,
                  record.attempt, stream)  # fmt: skip
    storage = backend.store_for(run).storage
    return backend.home.joinpath(*key.split("/")), storage if storage.is_remote else None, key


def log_bytes(backend: Any, run: Any, record: Any, stream: str) -> bytes:
    """The raw log of ``stream`` of the task attempt ``record`` (b'' if it printed nothing)."""
    from stepwell.store._logs import load_log

    path, remote, key = _places(backend, run, record, stream)
    try:
        return bytes(path.read_bytes())
    except (FileNotFoundError, NotADirectoryError):
        return load_log(remote, key) if remote is not None else b""


def log_size(backend: Any, run: Any, record: Any, stream: str) -> int:
    """The size in bytes of the raw log, without reading it."""
    from stepwell.store._logs import log_size as stored_size

    path, remote, key = _places(backend, run, record, stream)
    try:
        return path.stat().st_size
    except (FileNotFoundError, NotADirectoryError):
        return stored_size(remote, key) if remote is not None else 0


def read_text(raw: bytes) -> str:
    """The log's text without the timestamps."""
    from stepwell.store._logs import strip_timestamps

    return strip_timestamps(raw)


def log_lines(raw: bytes) -> Iterator[tuple[_dt.datetime | None, str]]:
    """``(UTC datetime, line)`` for each line of a log."""
    from stepwell.store._logs import TIMESTAMP_FORMAT

    for line in raw.decode("utf-8", "replace").splitlines():
        stamp, sep, text = line.partition(" ")
        try:
            when = _dt.datetime.strptime(stamp, TIMESTAMP_FORMAT).replace(tzinfo=_dt.timezone.utc)
        except ValueError:  # not a line the runtime wrote: keep it whole
            yield None, line
            continue
        yield when, text if sep else ""
