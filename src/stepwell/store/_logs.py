"""Task logs in a datastore: where they live, how they are uploaded while a task runs, how read.

A task attempt's stream is one blob, ``logs/<flow>/<run>/<step>/<task>/<attempt>.<stream>``
(one timestamped line per line the task printed). On the local datastore the
runtime appends to that very file. On a remote datastore the runtime keeps a
local copy and uploads what is new every few seconds as a *part*
(``<key>.part-<byte offset>``), so readers elsewhere see a running task's
output; when the task ends the whole log is written under the key and the
parts are removed. Readers take the whole blob if it exists, else the parts in
offset order.
"""

from __future__ import annotations

from stepwell.exceptions import BlobNotFoundError
from stepwell.store._storage import Storage

STREAMS = ("stdout", "stderr")
#: Each line of a log starts with the UTC time the runtime read it, in this format, and a space.
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
PART_SEPARATOR = ".part-"
_OFFSET_DIGITS = 15


def log_key(flow: str, run_id: str, step: str, task_id: str, attempt: int, stream: str) -> str:
    """The datastore key of one stream of one task attempt."""
    if stream not in STREAMS:
        raise ValueError(f"Invalid log stream {stream!r}: expected 'stdout' or 'stderr'.")
    return f"logs/{flow}/{run_id}/{step}/{task_id}/{attempt}.{stream}"


def strip_timestamps(raw: bytes) -> str:
    """A log's text as the task printed it: each line without its timestamp."""
    lines = raw.decode("utf-8", "replace").splitlines(keepends=True)
    return "".join(line.split(" ", 1)[1] if " " in line else line for line in lines)


def part_key(key: str, offset: int) -> str:
    """The key of the part of log ``key`` that starts at byte ``offset``."""
    return f"{key}{PART_SEPARATOR}{offset:0{_OFFSET_DIGITS}d}"


def save_log_part(storage: Storage, key: str, offset: int, data: bytes) -> None:
    """Upload the bytes of log ``key`` from ``offset`` on (while its task runs)."""
    storage.save_bytes(part_key(key, offset), data, overwrite=True)


def save_log(storage: Storage, key: str, data: bytes) -> None:
    """Write the whole log under ``key`` and drop the parts uploaded while it ran."""
    storage.save_bytes(key, data, overwrite=True)
    for part in list(storage.list(key + PART_SEPARATOR)):
        storage.delete(part)


def log_size(storage: Storage, key: str) -> int:
    """The log's size in bytes, without reading it (0 when the task printed nothing)."""
    try:
        return storage.info(key).size
    except BlobNotFoundError:
        pass
    total = 0
    for part in storage.list(key + PART_SEPARATOR):
        try:
            total += storage.info(part).size
        except BlobNotFoundError:  # the task ended meanwhile: the whole log is there now
            return log_size(storage, key) if storage.exists(key) else total
    return total


def load_log(storage: Storage, key: str) -> bytes:
    """The log's bytes: the whole blob, else its parts so far, else b'' (nothing printed)."""
    try:
        return bytes(storage.load_bytes(key))
    except BlobNotFoundError:
        pass
    chunks: list[bytes] = []
    expected = 0
    for part in sorted(storage.list(key + PART_SEPARATOR)):
        offset = int(part.rsplit(PART_SEPARATOR, 1)[1])
        if offset != expected:  # a part is still on its way: show what is contiguous
            break
        try:
            data = bytes(storage.load_bytes(part))
        except BlobNotFoundError:  # the task ended meanwhile: the whole log is there now
            return load_log(storage, key) if storage.exists(key) else b"".join(chunks)
        chunks.append(data)
        expected += len(data)
    return b"".join(chunks)
