"""The environment store under ``STEPWELL_HOME/environments``: locks, built environments.

Layout::

    locks/<spec key>.json   a resolution: the requested packages -> the exact lock
    envs/<lock hash>/       a virtual environment built from that lock (uv, relocatable)
    envs/<lock hash>.lock   flock: exclusive while building, shared while a run uses it
    pythons.json            interpreters found for python= versions (uv python find)
    shims/<id>/stepwell     a link to this stepwell, put on the environments' PYTHONPATH

A resolution is made once per distinct request (same packages, Python and
platform) and an environment once per distinct lock; both are written under
a temporary name and renamed into place when complete, so a crash leaves
nothing half-built under a final name. Concurrent runs that need the same
environment wait on its lock file and build it once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stepwell.environments._spec import EnvironmentSpec
from stepwell.environments._uv import EnvironmentBuildError, run_uv, uv_reason

MARKER = "stepwell-env.json"
_PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;\\]+)")


@dataclass(frozen=True)
class Lock:
    """An exact resolution: every package pinned with its hashes, for one Python."""

    text: str
    python_version: str
    kind: str = "pypi"

    @property
    def hash(self) -> str:
        text = f"{self.python_version}\n{platform.system()}-{platform.machine()}\n{self.text}"
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    @property
    def packages(self) -> dict[str, str]:
        """Package -> pinned version, as the lock lists them."""
        found = {}
        for line in self.text.splitlines():
            match = _PINNED.match(line.strip())
            if match:
                found[match.group(1).lower()] = match.group(3)
        return found


@dataclass(frozen=True)
class Environment:
    """A built environment: its interpreter and the lock it was built from."""

    path: Path
    lock: Lock
    requested: tuple[str, ...] = ()
    built_now: bool = False

    @property
    def key(self) -> str:
        return self.lock.hash

    @property
    def python(self) -> str:
        return str(self.path / "bin" / "python")

    def describe(self) -> dict[str, Any]:
        """What a task records about the environment it ran in (``Task.environment_info``)."""
        return {
            "type": self.lock.kind,
            "key": self.key,
            "python_version": self.lock.python_version,
            "executable": self.python,
            "requested": list(self.requested),
            "packages": self.lock.packages,
        }


@dataclass
class EnvironmentStore:
    """Resolves and builds environments under ``root`` (``STEPWELL_HOME/environments``)."""

    root: Path
    runtime: Any = None  # RuntimeRequirements: what stepwell's worker needs in every environment
    say: Callable[[str], None] = field(default=lambda message: None)

    def ensure(
        self, spec: EnvironmentSpec, steps: list[str], found: tuple[str, str] | None = None
    ) -> Environment:
        """The environment for ``spec``: from the store, or resolved and built now.

        ``found`` is the (path, version) of its interpreter when already looked up.
        """
        interpreter, version = found or self.interpreter(spec, steps)
        lock = self.resolve(spec, interpreter, version, steps)
        return self.build(lock, interpreter, spec, steps)

    # -- interpreters ------------------------------------------------------------------
    def interpreter(self, spec: EnvironmentSpec, steps: list[str]) -> tuple[str, str]:
        """(path, full version) of the Python that ``spec`` asks for."""
        current = platform.python_version()
        if spec.python is None or _matches(current, spec.python):
            return sys.executable, current
        cache_file = self.root / "pythons.json"
        known = _read_json(cache_file)
        cached = known.get(spec.python)
        if cached and Path(cached[0]).exists():
            return cached[0], cached[1]
        path, version = _find_python(spec.python)
        if path is None:
            raise EnvironmentBuildError(
                f"{_asks(steps)} for Python {spec.python} (@{spec.kind}), and no such "
                f"interpreter is on this machine (this run's is {current}; stepwell never "
                "downloads one). Install that Python, or change python= (or leave it out to use "
                "this run's).",
                location=spec.where or None,
            )
        known[spec.python] = [path, version]
        _write_json(cache_file, known)
        return path, version

    # -- resolution ----------------------------------------------------------------------
    def resolve(
        self, spec: EnvironmentSpec, interpreter: str, version: str, steps: list[str]
    ) -> Lock:
        """The lock for ``spec``: read back when resolved before (no uv call), else resolved."""
        key = spec.key(version, self._runtime_key())
        path = self.root / "locks" / f"{key}.json"
        lock = _read_lock(path)
        if lock is not None:
            return lock
        path.parent.mkdir(parents=True, exist_ok=True)
        with _flock(path.with_suffix(".lock"), exclusive=True, waiting=self._waiting(steps)):
            lock = _read_lock(path)
            if lock is not None:
                return lock
            self.say(f"Resolving the environment of {_names(steps)} ({spec.describe()}) with uv")
            started = time.monotonic()
            lock = self._compile(spec, interpreter, version, steps)
            record = {"kind": spec.kind, "python_version": version, "lock": lock.text,
                      "requested": spec.requirements(), "runtime": self._runtime_key(),
                      "created_at": time.time()}  # fmt: skip
            _write_json(path, record)
            self.say(f"  resolved {len(lock.packages)} packages in "
                     f"{time.monotonic() - started:.1f} s")  # fmt: skip
            return lock

    def _compile(
        self, spec: EnvironmentSpec, interpreter: str, version: str, steps: list[str]
    ) -> Lock:
        runtime = self.runtime.requirements() if self.runtime is not None else ()
        requested = "\n".join([*spec.requirements(), *runtime]) + "\n"
        result = run_uv(
            ["pip", "compile", "-", "--generate-hashes", "--no-header", "--no-annotate",
             "--quiet", "--no-python-downloads", "--python", interpreter],
            stdin=requested,
        )  # fmt: skip
        if result.returncode != 0:
            raise EnvironmentBuildError(_resolution_message(spec, steps, result.stderr),
                                        location=spec.where or None)  # fmt: skip
        return Lock(result.stdout, version, spec.kind)

    # -- building --------------------------------------------------------------------
    def build(
        self, lock: Lock, interpreter: str, spec: EnvironmentSpec, steps: list[str]
    ) -> Environment:
        """The environment of ``lock``, built now unless it is in the store already."""
        envs = self.root / "envs"
        final = envs / lock.hash
        requested = tuple(spec.requirements())
        if (final / MARKER).exists():
            _touch(final / MARKER)
            return Environment(final, lock, requested)
        envs.mkdir(parents=True, exist_ok=True)
        with _flock(envs / f"{lock.hash}.lock", exclusive=True, waiting=self._waiting(steps)):
            if (final / MARKER).exists():
                return Environment(final, lock, requested)
            started = time.monotonic()
            self.say(f"Building the environment of {_names(steps)}: {len(lock.packages)} "
                     f"packages, Python {lock.python_version}")  # fmt: skip
            self._install(lock, interpreter, final, spec, steps)
            self.say(f"  built in {time.monotonic() - started:.1f} s ({final})")
        return Environment(final, lock, requested, built_now=True)

    def _install(
        self, lock: Lock, interpreter: str, final: Path, spec: EnvironmentSpec, steps: list[str]
    ) -> None:
        partial = final.parent / f".partial-{lock.hash}-{os.getpid()}"
        shutil.rmtree(partial, ignore_errors=True)
        try:
            self._uv_or_fail(["venv", "--relocatable", "--quiet", "--no-python-downloads",
                              "--python", interpreter, str(partial)], spec, steps)  # fmt: skip
            lock_file = partial / "stepwell-lock.txt"
            lock_file.write_text(lock.text)
            python = str(partial / "bin" / "python")
            self._uv_or_fail(["pip", "sync", "--quiet", "--require-hashes", "--python", python,
                              str(lock_file)], spec, steps)  # fmt: skip
            marker = {"lock_hash": lock.hash, "kind": lock.kind, "requested": spec.requirements(),
                      "python_version": lock.python_version, "built_at": time.time()}  # fmt: skip
            _write_json(partial / MARKER, marker)
            shutil.rmtree(final, ignore_errors=True)  # a leftover without its marker
            os.rename(partial, final)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise

    def _uv_or_fail(self, args: list[str], spec: EnvironmentSpec, steps: list[str]) -> None:
        result = run_uv(args)
        if result.returncode != 0:
            raise EnvironmentBuildError(
                f"uv {args[0]} {args[1]} failed for the environment of {_names(steps)} "
                f"({spec.describe()}):\n{uv_reason(result.stderr)}",
                location=spec.where or None,
            )

    def _runtime_key(self) -> str:
        return self.runtime.key if self.runtime is not None else ""

    def _waiting(self, steps: list[str]) -> Callable[[], None]:
        return lambda: self.say(
            f"Waiting for another process building the environment of {_names(steps)}"
        )

    # -- use, listing, pruning ---------------------------------------------------------
    @contextlib.contextmanager
    def in_use(self, environments: list[Environment]) -> Iterator[None]:
        """Hold a shared lock on each environment, so ``prune`` leaves them alone."""
        with contextlib.ExitStack() as stack:
            for env in environments:
                stack.enter_context(_flock(self.root / "envs" / f"{env.key}.lock"))
            yield

    def list_environments(self) -> list[dict[str, Any]]:
        """Every built environment, most recently used first."""
        found = []
        for marker in (self.root / "envs").glob(f"*/{MARKER}"):
            info = _read_json(marker)
            info["path"] = str(marker.parent)
            info["last_used"] = marker.stat().st_mtime
            info["bytes"] = _size(marker.parent)
            found.append(info)
        return sorted(found, key=lambda i: -i["last_used"])

    def prune(self, older_than_seconds: float, *, dry_run: bool = False) -> list[dict[str, Any]]:
        """Delete environments unused for ``older_than_seconds`` that no run is using."""
        removed = []
        cutoff = time.time() - older_than_seconds
        for info in self.list_environments():
            if info["last_used"] > cutoff:
                continue
            lock_path = Path(info["path"]).with_suffix(".lock")
            with _try_exclusive(lock_path) as free:
                if not free:
                    continue  # a run is using it
                if not dry_run:
                    (Path(info["path"]) / MARKER).unlink(missing_ok=True)  # never half-trusted
                    shutil.rmtree(info["path"], ignore_errors=True)
                removed.append(info)
        return removed

    def shim(self) -> Path:
        """A folder holding only a link to this stepwell, for the environments' PYTHONPATH."""
        package = Path(__file__).resolve().parents[1]
        folder = self.root / "shims" / hashlib.sha256(str(package).encode()).hexdigest()[:16]
        link = folder / "stepwell"
        if not link.is_symlink() or link.resolve() != package:
            folder.mkdir(parents=True, exist_ok=True)
            temporary = folder / f".stepwell-{os.getpid()}"
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
            temporary.symlink_to(package, target_is_directory=True)
            os.replace(temporary, link)
        return folder


def _resolution_message(spec: EnvironmentSpec, steps: list[str], stderr: str) -> str:
    message = (
        f"uv could not resolve the packages of {_names(steps)} ({spec.describe()}):\n"
        f"{uv_reason(stderr)}"
    )
    missing = re.findall(r"Because ([A-Za-z0-9._-]+) was not found in the package registry", stderr)
    if missing:
        message += f"\n  No package named {', '.join(repr(m) for m in missing)} is on the index."
        if spec.kind == "conda":
            message += (
                " stepwell builds @conda environments from PyPI under the same names; a package "
                "that exists only on conda channels cannot be built: use @pypi with its PyPI "
                "name, or drop it."
            )
        else:
            message += " Check the spelling, or the index uv uses (UV_INDEX_URL, UV_FIND_LINKS)."
    return message


def _find_python(requested: str) -> tuple[str | None, str]:
    """(path, full version) of an installed Python ``requested`` matches: uv's discovery,
    then pyenv's versions (whose shims make uv's PATH search fail for versions not active).
    """
    found = run_uv(["python", "find", "--no-python-downloads", requested])
    if found.returncode == 0 and found.stdout.strip():
        path = found.stdout.strip()
        return path, _version_of(path) or requested
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    minor = ".".join(requested.split(".")[:2])
    for candidate in sorted(pyenv.glob(f"*/bin/python{minor}"), reverse=True):
        version = _version_of(str(candidate))
        if version and _matches(version, requested):
            return str(candidate), version
    return None, requested


def _version_of(python: str) -> str | None:
    try:
        probe = subprocess.run(
            [python, "-c", "import platform; print(platform.python_version())"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    except OSError:
        return None
    return probe.stdout.strip() if probe.returncode == 0 else None


def _matches(version: str, requested: str) -> bool:
    return version == requested or version.startswith(requested + ".")


def _asks(steps: list[str]) -> str:
    """``Step 'a' asks`` / ``Steps 'a', 'b' ask``."""
    names = _names(steps)
    return names[0].upper() + names[1:] + (" asks" if len(steps) == 1 else " ask")


def _names(steps: list[str]) -> str:
    quoted = ", ".join(f"'{s}'" for s in steps)
    return f"step {quoted}" if len(steps) == 1 else f"steps {quoted}"


def _read_lock(path: Path) -> Lock | None:
    data = _read_json(path)
    if not data.get("lock"):
        return None
    return Lock(data["lock"], data["python_version"], data.get("kind", "pypi"))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _write_json(path: Path, value: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(json.dumps(value, indent=1, sort_keys=True))
    os.replace(temporary, path)


def _touch(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.utime(path)


def _size(folder: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


@contextlib.contextmanager
def _flock(
    path: Path, *, exclusive: bool = False, waiting: Callable[[], None] | None = None
) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    try:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting is not None:
                waiting()
            fcntl.flock(fd, mode)
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def _try_exclusive(path: Path) -> Iterator[bool]:
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)
