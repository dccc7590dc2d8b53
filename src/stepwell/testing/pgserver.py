"""A real PostgreSQL server on 127.0.0.1 for tests and benchmarks.

:class:`PostgresServer` runs Debian's (or any) PostgreSQL binaries in a new
temporary directory: ``initdb``, then ``postgres`` listening on 127.0.0.1 at a
free port and on a private Unix socket directory. It is a child of the process
that started it and is told to die with it (Linux ``PR_SET_PDEATHSIG``), so an
interrupted test session leaves no server behind. ``initdb`` refuses to run as
root, so under root the server runs as the ``postgres`` user.

Authentication: the superuser ``postgres`` is trusted (over the socket and
127.0.0.1); every other role logs in with its password (SCRAM), as on a real
server::

    with PostgresServer.start() as pg:
        url = pg.new_database(owner="alice", password="secret")
        # postgresql://alice:secret@127.0.0.1:PORT/db_1

Durability is traded for speed by default (``fsync=off``): the data dies with
the test. ``durable=True`` keeps PostgreSQL's defaults, for benchmarks.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

_HBA = """\
local all all trust
host all postgres 127.0.0.1/32 trust
host all all 127.0.0.1/32 scram-sha-256
"""


def find_postgres_bin() -> Path | None:
    """The directory of ``initdb`` and ``postgres`` (newest Debian version first), or None."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class PostgresServer:
    """A running throwaway PostgreSQL; build it with :meth:`start`, stop it with :meth:`stop`."""

    def __init__(self, root: Path, port: int, process: subprocess.Popen[bytes]) -> None:
        self.root = root
        self.port = port
        self.host = "127.0.0.1"
        self._process = process
        self._databases = 0

    # -- life cycle ------------------------------------------------------------

    @classmethod
    def start(cls, *, durable: bool = False, timeout: float = 60.0) -> PostgresServer:
        """initdb a new cluster in a temporary directory and start it; wait until it answers."""
        bindir = find_postgres_bin()
        if bindir is None:
            raise RuntimeError(
                "PostgreSQL is not installed (no initdb found). On Debian: "
                "apt-get install postgresql"
            )
        root = Path(tempfile.mkdtemp(prefix="stepwell-pg-"))
        owner = _run_as()
        if owner is not None:
            os.chown(root, owner.pw_uid, owner.pw_gid)
        data, sockets = root / "data", root / "sockets"
        try:
            initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
            _as_owner(owner, [*initdb, "-E", "UTF8", "--no-locale", "--no-sync"])
            (data / "pg_hba.conf").write_text(_HBA)
            _as_owner(owner, ["mkdir", "-p", str(sockets)])
            port = _free_port()
            settings = {
                "listen_addresses": "127.0.0.1",
                "port": str(port),
                "unix_socket_directories": str(sockets),
                "max_connections": "300",
                "password_encryption": "scram-sha-256",
            }
            if not durable:
                settings.update(fsync="off", synchronous_commit="off", full_page_writes="off")
            command = [str(bindir / "postgres"), "-D", str(data)]
            for name, value in settings.items():
                command += ["-c", f"{name}={value}"]
            log = open(root / "server.log", "ab")  # noqa: SIM115 - owned by the server's life
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                preexec_fn=_preexec(owner),
            )  # fmt: skip
            log.close()
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        server = cls(root, port, process)
        try:
            server._wait_ready(timeout)
        except BaseException:
            server.stop()
            raise
        return server

    def _wait_ready(self, timeout: float) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"PostgreSQL exited at start:\n{self.log_tail()}")
            try:
                psycopg.connect(self.admin_url(), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"PostgreSQL did not answer within {timeout:.0f} s:\n{self.log_tail()}"
                    ) from None
                time.sleep(0.1)

    def stop(self, timeout: float = 15.0) -> None:
        """Fast shutdown (SIGINT), then SIGKILL after ``timeout``; remove the directory."""
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = (self.root / "server.log").read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])

    # -- roles and databases -----------------------------------------------------

    def admin_url(self, database: str = "postgres") -> str:
        """The superuser's URL (trusted: no password)."""
        return f"postgresql://postgres@{self.host}:{self.port}/{database}"

    def url(self, database: str, user: str = "postgres", password: str | None = None) -> str:
        auth = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
        return f"postgresql://{auth}@{self.host}:{self.port}/{database}"

    def sql(self, statement: str, *params: Any, database: str = "postgres") -> list[Any]:
        """Run one statement as the superuser (autocommit); its rows, if any."""
        import psycopg

        with psycopg.connect(self.admin_url(database), autocommit=True) as conn:
            cursor = conn.execute(statement, params or None)
            return cursor.fetchall() if cursor.description else []

    def create_role(self, name: str, password: str) -> None:
        from psycopg import sql

        with _admin(self) as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(name), sql.Literal(password)
                )
            )

    def new_database(
        self, name: str | None = None, *, owner: str = "postgres", password: str | None = None
    ) -> str:
        """Create a database (and its owner role, if a password is given); its URL."""
        from psycopg import sql

        self._databases += 1
        name = name or f"db_{self._databases}"
        if password is not None and not self.sql("SELECT 1 FROM pg_roles WHERE rolname = %s",
                                                  owner):  # fmt: skip
            self.create_role(owner, password)
        with _admin(self) as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(name), sql.Identifier(owner)
                )
            )
        return self.url(name, owner, password)


@contextlib.contextmanager
def _admin(server: PostgresServer) -> Iterator[Any]:
    import psycopg

    with psycopg.connect(server.admin_url(), autocommit=True) as conn:
        yield conn


def _run_as() -> pwd.struct_passwd | None:
    """Under root, the ``postgres`` account (PostgreSQL refuses to run as root); else None."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError(
            "PostgreSQL refuses to run as root and there is no 'postgres' user to run it as."
        ) from None


def _preexec(owner: pwd.struct_passwd | None) -> Any:
    def setup() -> None:
        _die_with_parent()
        if owner is not None:
            os.setgid(owner.pw_gid)
            os.setuid(owner.pw_uid)

    return setup


def _as_owner(owner: pwd.struct_passwd | None, command: list[str]) -> None:
    result = subprocess.run(
        command, capture_output=True, preexec_fn=_preexec(owner), check=False,
        env={**os.environ, "LC_ALL": "C"},
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command[:1])} failed ({result.returncode}):\n"
            f"{result.stderr.decode(errors='replace')[-2000:]}"
        )
