"""One SQL database seen from one process: connection, transactions, migrations.

Backends subclass :class:`SqlDatabase` to open a DB-API connection in
autocommit mode and name their few dialect differences (class attributes).
Queries are written once, with ``?`` placeholders; :meth:`SqlDatabase.sql` is
the one place that rewrites them for a driver with another parameter style.

The connection is opened lazily and belongs to the process that opened it:
after ``os.fork()`` the child opens its own and never touches (nor closes)
the parent's, which it keeps referenced so garbage collection cannot close
it either.
"""

from __future__ import annotations

import abc
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, ClassVar

from stepwell.exceptions import MetadataError
from stepwell.metadata._schema import CREATE_VERSION_TABLE, LATEST_VERSION, MIGRATIONS


class Query:
    """Runs statements on one cursor, inside a transaction opened by the database."""

    __slots__ = ("_cursor", "_sql", "_sync")

    def __init__(
        self, cursor: Any, sql: Callable[[str], str], sync: Callable[[], None] | None = None
    ) -> None:
        self._cursor = cursor
        self._sql = sql
        self._sync = sync  # a pipelined connection: wait for results before reading a count

    def run(self, statement: str, params: Sequence[Any] = ()) -> int:
        """Execute; return the number of rows changed."""
        self._cursor.execute(self._sql(statement), params)
        if self._sync is not None:
            self._sync()
        return int(self._cursor.rowcount)

    def many(self, statement: str, rows: Sequence[Sequence[Any]]) -> int:
        """Execute once per row; return the total number of rows changed."""
        if not rows:
            return 0
        self._cursor.executemany(self._sql(statement), rows)
        if self._sync is not None:
            self._sync()
        return int(self._cursor.rowcount)

    def send(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        """Execute once per row, no count wanted: a pipelined connection does not wait."""
        if rows:
            self._cursor.executemany(self._sql(statement), rows)

    def one(self, statement: str, params: Sequence[Any] = ()) -> Any:
        """The first row, or ``None``."""
        self._cursor.execute(self._sql(statement), params)
        rows = self._cursor.fetchall()
        return rows[0] if rows else None

    def all(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        self._cursor.execute(self._sql(statement), params)
        return list(self._cursor.fetchall())

    def stream(self, statement: str, params: Sequence[Any] = (), size: int = 64) -> Iterator[Any]:
        """Rows fetched in batches, so a caller that stops early reads little.

        Each stream has its own cursor: several may be consumed interleaved.
        """
        cursor = self._cursor.connection.cursor()
        try:
            cursor.execute(self._sql(statement), params)
            while batch := cursor.fetchmany(size):
                yield from batch
        finally:
            cursor.close()


class SqlDatabase(abc.ABC):
    """A database reached through a DB-API 2 driver, one connection per process."""

    serial_pk: ClassVar[str]
    """Column definition of an auto-incrementing integer primary key."""
    clustered: ClassVar[str] = ""
    """Table options for a table stored in primary-key order (after the closing parenthesis)."""
    begin_write: ClassVar[str] = "BEGIN"
    """Statement opening a write transaction (it must take the write lock at once)."""
    begin_read: ClassVar[str] = "BEGIN"
    """Statement opening a read-only transaction whose queries all see one snapshot."""
    lock_schema: ClassVar[str | None] = None
    """Statement, run first in a migration's transaction, that serializes schema changes."""
    auto_migrate: ClassVar[bool] = True
    """Apply missing migrations when a connection opens; otherwise only ``upgrade()`` does."""
    no_limit: ClassVar[int | None] = None
    """A ``LIMIT`` value meaning "no limit" (needed when only ``OFFSET`` is given)."""
    driver_error: ClassVar[type[Exception]] = Exception
    """The driver's base exception class."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._conn: Any = None
        self._pid = os.getpid()
        self._lock = threading.RLock()
        self._inherited: list[Any] = []

    # -- backend hooks --------------------------------------------------------

    @abc.abstractmethod
    def connect(self) -> Any:
        """Open a new DB-API connection in autocommit mode."""

    @abc.abstractmethod
    def describe(self) -> str:
        """Names the database in error messages ("the SQLite database at ...")."""

    def sql(self, statement: str) -> str:
        """The statement in the driver's parameter style (``?`` as written)."""
        return statement

    # -- transactions -----------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[Query]:
        """One write transaction: committed on success, rolled back on any error."""
        with self._session() as conn:
            cursor = conn.cursor()
            self._guarded(cursor.execute, self.begin_write)
            try:
                yield Query(cursor, self.sql)
                cursor.execute("COMMIT")
            except BaseException as exc:
                with suppress(Exception):
                    cursor.execute("ROLLBACK")
                if isinstance(exc, self.driver_error):
                    raise self.failure(exc) from exc
                raise

    @contextmanager
    def read(self) -> Iterator[Query]:
        """A read-only transaction: every query in it sees the same snapshot."""
        with self._session() as conn:
            cursor = conn.cursor()
            self._guarded(cursor.execute, self.begin_read)
            try:
                yield Query(cursor, self.sql)
            except self.driver_error as exc:
                raise self.failure(exc) from exc
            finally:
                with suppress(Exception):
                    cursor.execute("ROLLBACK")

    def close(self) -> None:
        """Close this process's connection (a later call reopens one)."""
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    def claim_run_id(self, q: Query, run_id: int) -> None:  # noqa: B027 - optional hook
        """After inserting a run with an id chosen by the caller: keep the id sequence past it.

        SQLite's AUTOINCREMENT does this itself; other databases override it.
        """

    def failure(self, exc: BaseException) -> MetadataError:
        return MetadataError(
            f"{self.describe()} failed: {exc}",
            database=self.describe(),
            cause=repr(exc),
        )

    # -- connection -------------------------------------------------------------

    @contextmanager
    def _session(self) -> Iterator[Any]:
        pid = os.getpid()
        if pid != self._pid:  # forked: the parent's connection and lock are not ours
            if self._conn is not None:
                self._inherited.append(self._conn)
            self._conn = None
            self._lock = threading.RLock()
            self._pid = pid
        with self._lock:
            if self._conn is None:
                self._conn = self._open()
            yield self._conn

    def _open(self) -> Any:
        conn = self._guarded(self.connect)
        try:
            if self.auto_migrate:
                self._migrate(conn)
            else:
                self._check_current(conn)
        except BaseException:
            with suppress(Exception):
                conn.close()
            raise
        return conn

    def _guarded(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except self.driver_error as exc:
            raise self.failure(exc) from exc

    # -- migrations -------------------------------------------------------------

    def check(self) -> None:
        """Open one connection, check the schema as opening does, close it."""
        conn = self._guarded(self.connect)
        try:
            if not self.auto_migrate:
                self._check_current(conn)
        finally:
            conn.close()

    def schema_version(self) -> int:
        """The schema version the database has (0: no stepwell schema yet)."""
        conn = self._guarded(self.connect)
        try:
            return self._stored_version(conn) or 0
        finally:
            conn.close()

    def upgrade(self) -> tuple[int, int]:
        """Apply every missing migration (one transaction); the versions before and after."""
        conn = self._guarded(self.connect)
        try:
            return self._migrate(conn), LATEST_VERSION
        finally:
            conn.close()

    def _stored_version(self, conn: Any) -> int | None:
        cursor = conn.cursor()
        try:
            cursor.execute("SELECT MAX(version) FROM schema_version")
            row = cursor.fetchone()
        except self.driver_error:
            return None  # no schema_version table yet
        return None if row is None or row[0] is None else int(row[0])

    def _check_current(self, conn: Any) -> None:
        """For databases migrated only on request: refuse a schema that is missing or old."""
        version = self._stored_version(conn) or 0
        self._check_not_newer(version)
        if version < LATEST_VERSION:
            state = "has no stepwell schema" if version == 0 else f"has schema version {version}"
            raise MetadataError(
                f"{self.describe()} {state}; this stepwell needs version {LATEST_VERSION}.\n"
                f"Create or upgrade it with: {self.upgrade_hint()}",
                database=self.describe(),
                schema_version=version,
            )

    def upgrade_hint(self) -> str:
        """The command that upgrades this database's schema."""
        return "stepwell db upgrade"

    def _migrate(self, conn: Any) -> int:
        """Bring the schema to :data:`LATEST_VERSION`; safe with concurrent openers."""
        version = self._stored_version(conn)
        if version is not None:
            self._check_not_newer(version)
            if version == LATEST_VERSION:
                return version  # the usual case: no write lock taken
        cursor = conn.cursor()
        self._guarded(cursor.execute, self.begin_write)
        try:
            query = Query(cursor, self.sql)
            if self.lock_schema:
                query.run(self.lock_schema)
            query.run(CREATE_VERSION_TABLE)
            current = query.one("SELECT MAX(version) FROM schema_version")[0] or 0
            self._check_not_newer(current)
            for migration in MIGRATIONS:
                if migration.version <= current:
                    continue
                for statement in migration.statements:
                    query.run(statement.format(serial_pk=self.serial_pk, clustered=self.clustered))
                query.run(
                    "INSERT INTO schema_version (version, description, applied_at)"
                    " VALUES (?, ?, ?)",
                    (migration.version, migration.description, self._clock()),
                )
            cursor.execute("COMMIT")
            return int(current)
        except BaseException as exc:
            with suppress(Exception):
                cursor.execute("ROLLBACK")
            if isinstance(exc, self.driver_error):
                raise self.failure(exc) from exc
            raise

    def _check_not_newer(self, version: int) -> None:
        if version > LATEST_VERSION:
            raise MetadataError(
                f"{self.describe()} has schema version {version}, but this stepwell "
                f"knows versions up to {LATEST_VERSION}.\n"
                "It was written by a newer stepwell. Upgrade stepwell to use it.",
                database=self.describe(),
                schema_version=version,
            )
