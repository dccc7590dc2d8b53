"""Live task logs: read a task's stdout/stderr pipes, timestamp each line, keep and show it.

Each line goes to ``<home>/logs/<flow>/<run>/<step>/<task>/<attempt>.<stream>``
as soon as it is complete (``<ISO-8601 UTC timestamp> <line>``), and to the
console prefixed with ``[run/step/task]``. Files are created on the first
line, so the thousands of silent tasks of a foreach cost nothing.

On a remote datastore (S3) a :class:`LogUploader` also sends each log there
from a background thread: what is new every few seconds while the task runs
(a part), and the whole log when it ends (see :mod:`stepwell.store._logs`).
"""

from __future__ import annotations

import datetime as _dt
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from stepwell.runtime._spec import TaskSpec
from stepwell.store._logs import TIMESTAMP_FORMAT, log_key, strip_timestamps

#: How often a running task's new output is uploaded to a remote datastore.
UPLOAD_SECONDS = 2.0


def log_path(
    home: Path, flow: str, run_id: str, step: str, task_id: str, attempt: int, stream: str
) -> Path:
    return home.joinpath(*log_key(flow, run_id, step, task_id, attempt, stream).split("/"))


class LogUploader:
    """Uploads task logs to a remote datastore from one background thread, in order.

    Failures never fail the run: the log stays in the local file, and
    :attr:`errors` says what could not be uploaded. After the first failure the
    uploader stops trying for the rest of the run (:attr:`skipped` counts what it
    let go), so an unreachable store does not hold the run's end for one retry
    budget per log.
    """

    def __init__(self, storage: Any) -> None:
        self.storage = storage
        self.errors: list[str] = []
        self.skipped = 0
        self._queue: queue.Queue[tuple[str, str, Path, int] | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def submit(self, kind: str, key: str, path: Path, offset: int = 0) -> None:
        """Queue a part (``kind='part'``: the file from ``offset`` on) or the whole log."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="stepwell-logs", daemon=True)
            self._thread.start()
        self._queue.put((kind, key, path, offset))

    def _work(self) -> None:
        from stepwell.store._logs import save_log, save_log_part

        while (item := self._queue.get()) is not None:
            kind, key, path, offset = item
            if self.errors:
                self.skipped += kind != "part"
                continue
            try:
                with open(path, "rb") as f:
                    f.seek(offset)
                    data = f.read()
                if kind == "part":
                    if data:
                        save_log_part(self.storage, key, offset, data)
                else:
                    save_log(self.storage, key, data)
            except Exception as exc:  # the local file keeps the log
                self.errors.append(f"{key}: {exc}")

    def close(self) -> None:
        """Wait until everything queued is uploaded."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None


def _timestamp() -> bytes:
    now = _dt.datetime.now(_dt.timezone.utc)
    return now.strftime(TIMESTAMP_FORMAT).encode()


class TaskLog:
    """One stream of one task attempt."""

    def __init__(
        self,
        home: Path,
        spec: TaskSpec,
        stream: str,
        echo: Callable[[str, str], None] | None,
        uploader: LogUploader | None = None,
    ) -> None:
        self._home = home
        self._spec = spec
        self._uploader = uploader
        self._path: Path | None = None
        self._written = 0  # bytes in the local file
        self._uploaded = 0  # of which the remote datastore has these
        self._uploaded_at = time.monotonic()
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
            if self._uploader is not None and self._path is not None:
                self._uploader.submit("whole", self._key(), self._path)

    def upload_due(self, now: float) -> None:
        """While the task runs: queue what it printed since the last upload, every few seconds."""
        if self._uploader is None or self._path is None or self._written == self._uploaded:
            return
        if now - self._uploaded_at >= UPLOAD_SECONDS:
            self._uploader.submit("part", self._key(), self._path, self._uploaded)
            self._uploaded, self._uploaded_at = self._written, now

    def _key(self) -> str:
        spec = self._spec
        return log_key(spec.flow_name, spec.run_id, spec.step_name, spec.task_id, spec.attempt,
                       self._stream)  # fmt: skip

    def _write(self, lines: list[bytes]) -> None:
        if self._file is None:  # the first line: only now is the path worth building
            spec = self._spec
            path = log_path(self._home, spec.flow_name, spec.run_id, spec.step_name,
                            spec.task_id, spec.attempt, self._stream)  # fmt: skip
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(path, "ab", buffering=0)  # noqa: SIM115 - kept open
            self._path = path
        stamp = _timestamp()
        data = b"".join(stamp + b" " + line + b"\n" for line in lines)
        self._file.write(data)
        self._written += len(data)
        if self._echo is not None:
            for line in lines:
                self._echo(self._stream, f"{self._prefix} {line.decode('utf-8', 'replace')}")


def read_log(path: Path, *, timestamps: bool = False) -> str:
    """The text of a log file written by :class:`TaskLog` ('' when the task printed nothing)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return ""
    return raw.decode("utf-8", "replace") if timestamps else strip_timestamps(raw)
