"""A task attempt's logs, as the runtime writes them (one timestamped line per line).

A log is read from this machine's copy when there is one (the runtime writes
it as the task prints, so it is the freshest), else from the run's datastore,
where a remote run's logs are uploaded while its tasks run.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from typing import Any

STREAMS = ("stdout", "stderr")
_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

__all__ = ["STREAMS", "log_bytes", "log_lines", "read_text"]


def log_bytes(backend: Any, run: Any, record: Any, stream: str) -> bytes:
    """The raw log of ``stream`` of the task attempt ``record`` (b'' if it printed nothing)."""
    from stepwell.store._logs import load_log, log_key  # late: the store costs ~20 ms

    key = log_key(record.flow_name, record.run_id, record.step_name, record.task_id,
                  record.attempt, stream)  # fmt: skip
    try:
        return bytes(backend.home.joinpath(*key.split("/")).read_bytes())
    except (FileNotFoundError, NotADirectoryError):
        pass
    url = getattr(run, "datastore", None) or ""
    if url.startswith("s3://"):
        return load_log(backend.store_for(run).storage, key)
    return b""


def read_text(raw: bytes) -> str:
    """The log's text without the timestamps."""
    text = raw.decode("utf-8", "replace")
    lines = text.splitlines(keepends=True)
    return "".join(line.split(" ", 1)[1] if " " in line else line for line in lines)


def log_lines(raw: bytes) -> Iterator[tuple[_dt.datetime | None, str]]:
    """``(UTC datetime, line)`` for each line of a log."""
    for line in raw.decode("utf-8", "replace").splitlines():
        stamp, sep, text = line.partition(" ")
        try:
            when = _dt.datetime.strptime(stamp, _FORMAT).replace(tzinfo=_dt.timezone.utc)
        except ValueError:  # not a line the runtime wrote: keep it whole
            yield None, line
            continue
        yield when, text if sep else ""
