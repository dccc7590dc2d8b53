"""The embedded metadata store: one SQLite file shared by every local process."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stepwell.exceptions import MetadataError
from stepwell.metadata._database import SqlDatabase
from stepwell.metadata._sql import SqlMetadataStore


class SqliteDatabase(SqlDatabase):
    """A SQLite file in WAL mode, written only in ``BEGIN IMMEDIATE`` transactions.

    ``BEGIN IMMEDIATE`` takes the write lock up front: a deferred transaction
    that reads then writes fails with "database is locked" under concurrency
    whatever the busy timeout. ``synchronous=NORMAL`` in WAL mode keeps every
    commit atomic and consistent; a power loss may drop the last commits.
    """

    serial_pk = "INTEGER PRIMARY KEY AUTOINCREMENT"  # AUTOINCREMENT: ids never reused
    clustered = " WITHOUT ROWID"
    begin_write = "BEGIN IMMEDIATE"
    no_limit = -1
    driver_error = sqlite3.Error

    def __init__(self, path: Path, *, busy_timeout: float, clock: Callable[[], float]) -> None:
        super().__init__(clock)
        self.path = path
        self.busy_timeout = busy_timeout

    def describe(self) -> str:
        return f"The SQLite metadata database at {self.path}"

    def connect(self) -> Any:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MetadataError(
                f"Cannot create the directory of {self.describe()}: {exc}.",
                database=str(self.path),
            ) from exc
        conn = sqlite3.connect(
            str(self.path),
            timeout=self.busy_timeout,
            isolation_level=None,  # autocommit: transactions are explicit
            check_same_thread=False,  # guarded by the database's lock
            cached_statements=256,
        )
        try:
            mode = self._enter_wal(conn)
            if str(mode).lower() != "wal":
                raise MetadataError(
                    f"{self.describe()} cannot use write-ahead logging (journal mode "
                    f"stays {mode!r}). Put it on a local disk: network filesystems are "
                    "not supported.",
                    database=str(self.path),
                )
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
        except BaseException:
            conn.close()
            raise
        return conn

    def _enter_wal(self, conn: Any) -> str:
        """Switch the file to WAL mode (once per file: the mode is stored in it).

        SQLite answers "database is locked" at once, without its busy handler,
        when two processes switch a new file at the same moment; the loser
        retries until the busy timeout, by which time the winner's switch is
        visible and there is nothing left to change.
        """
        deadline = time.monotonic() + self.busy_timeout
        delay = 0.001
        while True:
            try:
                mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
                if str(mode).lower() == "wal":
                    return str(mode)
                return str(conn.execute("PRAGMA journal_mode=WAL").fetchone()[0])
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() + delay > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.05)


class SqliteMetadataStore(SqlMetadataStore):
    """The metadata store in one SQLite file (``<root>/stepwell.db``).

    Any number of processes on one machine may share the file. The connection
    is opened on first use and reopened in a forked child.

    Args:
        path: the database file; created, with its directory, if missing.
        heartbeat_timeout: seconds without heartbeat after which a running
            run is reported as failed ("scheduler died").
        clock: returns the current UTC epoch time in seconds (tests inject it).
        busy_timeout: seconds a write waits for another process's transaction.

    Example:
        >>> store = SqliteMetadataStore(tmp_path / "stepwell.db")  # doctest: +SKIP
        >>> run_id = store.new_run("HelloFlow", user="ada", tags=[], system_tags=[],
        ...                        parameters={}, pid=os.getpid(), host="laptop")
    """

    def __init__(
        self,
        path: Path | str,
        *,
        heartbeat_timeout: float = 60.0,
        clock: Callable[[], float] = time.time,
        busy_timeout: float = 30.0,
    ) -> None:
        if busy_timeout < 10:
            raise MetadataError(
                f"busy_timeout={busy_timeout!r} s is too short: concurrent runs would fail "
                "with 'database is locked'. Use at least 10 s.",
            )
        self.path = Path(path)
        super().__init__(
            SqliteDatabase(self.path, busy_timeout=busy_timeout, clock=clock),
            heartbeat_timeout=heartbeat_timeout,
            clock=clock,
        )

    def __repr__(self) -> str:
        return f"SqliteMetadataStore({str(self.path)!r})"
