"""Live task logs: read a task's stdout/stderr pipes, timestamp each line, keep and show it.

Each line goes to ``<home>/logs/<flow>/<run>/<step>/<task>/<attempt>.<stream>``
as soon as it is complete (``<ISO-8601 UTC timestamp> <line>``), and to the
console prefixed with ``[run/step/task]``. Files are created on the first
line, so the thousands of silent tasks of a foreach cost nothing.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from stepwell.runtime._spec import TaskSpec

STREAMS = ("stdout", "stderr")


def log_path(
    home: Path, flow: str, run_id: str, step: str, task_id: str, attempt: int, stream: str
) -> Path:
    return home / "logs" / flow / run_id / step / task_id / f"{attempt}.{stream}"


def _timestamp() -> bytes:
    now = _dt.datetime.now(_dt.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.%fZ").encode()


class TaskLog:
    """One stream of one task attempt."""

    def __init__(
        self,
        home: Path,
        spec: TaskSpec,
        stream: str,
        echo: Callable[[str, str], None] | None,
    ) -> None:
        self._home = home
        self._spec = spec
        self._prefix = f"[{spec.run_id}/{spec.step_name}/{spec.task_id}]"
        if spec.attempt:
            self._prefix = self._prefix[:-1] + f" attempt {spec.attempt}]"
        self._stream = stream
        self._echo = echo
        self._pending = b""
        self._file: BinaryIO | None = None

    def feed(self, data: bytes) -> None:
        """Take bytes as they come; write out every complete line."""
        data = self._pending + data
        *lines, self._pending = data.split(b"\n")
        if lines:
            self._write(lines)

    def close(self) -> None:
        if self._pending:
            self._write([self._pending])
            self._pending = b""
        if self._file is not None:
            self._file.close()
            self._file = None

    def _write(self, lines: list[bytes]) -> None:
        if self._file is None:  # the first line: only now is the path worth building
            spec = self._spec
            path = log_path(self._home, spec.flow_name, spec.run_id, spec.step_name,
                            spec.task_id, spec.attempt, self._stream)  # fmt: skip
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(path, "ab", buffering=0)  # noqa: SIM115 - kept open
        stamp = _timestamp()
        self._file.write(b"".join(stamp + b" " + line + b"\n" for line in lines))
        if self._echo is not None:
            for line in lines:
                self._echo(self._stream, f"{self._prefix} {line.decode('utf-8', 'replace')}")


def read_log(path: Path, *, timestamps: bool = False) -> str:
    """The text of a log file written by :class:`TaskLog` ('' when the task printed nothing)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return ""
    text = raw.decode("utf-8", "replace")
    if timestamps:
        return text
    lines = text.splitlines(keepends=True)
    return "".join(line.split(" ", 1)[1] if " " in line else line for line in lines)
