"""A task attempt's log files, as the runtime writes them (one timestamped line per line)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

STREAMS = ("stdout", "stderr")
_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def log_file(home: Path, record: object, stream: str) -> Path:
    """The log file of ``stream`` of the task attempt ``record`` (it may not exist)."""
    if stream not in STREAMS:
        raise ValueError(f"Invalid log stream {stream!r}: expected 'stdout' or 'stderr'.")
    from stepwell.runtime._logs import log_path  # late: the runtime costs ~100 ms to import

    r: Any = record
    return log_path(home, r.flow_name, r.run_id, r.step_name, r.task_id, r.attempt, stream)


def read_text(path: Path) -> str:
    from stepwell.runtime._logs import read_log

    return read_log(path)


def log_lines(path: Path) -> Iterator[tuple[_dt.datetime | None, str]]:
    """``(UTC datetime, line)`` for each line of a log file (nothing if it does not exist)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return
    for line in raw.decode("utf-8", "replace").splitlines():
        stamp, sep, text = line.partition(" ")
        try:
            when = _dt.datetime.strptime(stamp, _FORMAT).replace(tzinfo=_dt.timezone.utc)
        except ValueError:  # not a line the runtime wrote: keep it whole
            yield None, line
            continue
        yield when, text if sep else ""
