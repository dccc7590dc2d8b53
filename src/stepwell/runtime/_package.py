"""The code package: the flow's directory as one content-addressed tarball in the datastore.

Every run records the key of its package (``RunRecord.code_key``), so what
ran can be read back (``Run.code``) and remote workers and deployments can
run exactly that code. The tarball is built deterministically (sorted names,
fixed times and owners), so unchanged code has the same key and is stored
once, however many runs use it.

What goes in: the files under the flow file's directory whose suffix is in
``suffixes`` (``.py`` by default), skipping hidden folders, ``__pycache__``,
virtual environments and ``node_modules``; plus ``INFO`` (JSON: the flow, the
flow file's path inside the package, the stepwell version, and the
environment of each @pypi / @conda step) and, for each distinct environment,
its exact lock as ``.stepwell/environments/<lock hash>.txt``: what a remote
worker or a deployment rebuilds the identical environment from
(``uv pip sync --require-hashes``).
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

DEFAULT_SUFFIXES = (".py",)
MAX_FILES = 5_000
MAX_BYTES = 64 << 20
INFO_NAME = "INFO"
ENVIRONMENTS_DIR = ".stepwell/environments"
_SKIP_DIRS = {"__pycache__", "node_modules", "site-packages"}


def package_files(root: Path, suffixes: tuple[str, ...] = DEFAULT_SUFFIXES) -> list[Path]:
    """The files to package under ``root``, sorted; stops at MAX_FILES / MAX_BYTES."""
    found: list[Path] = []
    total = 0
    for path in _walk(root, suffixes):
        size = path.stat().st_size
        if len(found) >= MAX_FILES or total + size > MAX_BYTES:
            break
        found.append(path)
        total += size
    return sorted(found)


def _walk(root: Path, suffixes: tuple[str, ...]) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(
            d for d in dirs
            if not d.startswith(".") and d not in _SKIP_DIRS
            and not (Path(folder) / d / "pyvenv.cfg").exists()
        )  # fmt: skip
        for name in sorted(files):
            if name.endswith(suffixes) and not name.startswith("."):
                yield Path(folder) / name


def build_package(
    flow_file: str,
    flow_name: str,
    version: str,
    suffixes: tuple[str, ...] = DEFAULT_SUFFIXES,
    environments: Mapping[str, Any] | None = None,
) -> bytes:
    """The tarball of the flow's directory, byte-identical for identical code.

    Not compressed here: the content store compresses it (zstd) when it pays.
    """
    path = Path(flow_file).resolve()
    root = path.parent
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info: dict[str, Any] = {
            "flow_name": flow_name, "script": path.name, "stepwell_version": version
        }  # fmt: skip
        locks = {}
        if environments:
            info["environments"] = {
                step: {"key": env.key, "type": env.lock.kind,
                       "python_version": env.lock.python_version,
                       "lock": f"{ENVIRONMENTS_DIR}/{env.key}.txt"}
                for step, env in sorted(environments.items())
            }  # fmt: skip
            locks = {f"{ENVIRONMENTS_DIR}/{e.key}.txt": e.lock.text for e in environments.values()}
        _add(tar, INFO_NAME, json.dumps(info, sort_keys=True).encode())
        for name, text in sorted(locks.items()):
            _add(tar, name, text.encode())
        for file in package_files(root, suffixes):
            _add(tar, file.relative_to(root).as_posix(), file.read_bytes())
    return buffer.getvalue()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    member = tarfile.TarInfo(name)
    member.size = len(data)
    member.mode = 0o644
    member.mtime = 0
    tar.addfile(member, io.BytesIO(data))


def save_package(
    store: Any,
    flow_file: str,
    flow_name: str,
    version: str,
    suffixes: tuple[str, ...] = DEFAULT_SUFFIXES,
    environments: Mapping[str, Any] | None = None,
) -> str:
    """Store the package (once per distinct content) and return its blob key."""
    package = build_package(flow_file, flow_name, version, suffixes, environments)
    (ref,) = store.save_blobs([package])
    return str(ref.key)


def unpack_package(store: Any, key: str, folder: Path, *, context: str) -> Path:
    """The code package ``key`` unpacked in ``folder`` (once: a finished folder is reused).

    It is unpacked under a temporary name and renamed into place, so a
    half-unpacked package is never used; when several processes unpack the
    same key at once, one rename wins and the others discard their copy.
    """
    import shutil

    if (folder / ".complete").exists():
        return folder
    data = bytes(store.load_blob(key, context=context))
    partial = folder.with_name(f".{folder.name}.{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(partial, filter="data")  # no links out, no absolute paths
    (partial / ".complete").write_text(key)
    try:
        os.rename(partial, folder)
    except OSError:  # another process finished first (or a stale, unfinished folder is there)
        if not (folder / ".complete").exists():
            shutil.rmtree(folder, ignore_errors=True)
            os.rename(partial, folder)
        else:
            shutil.rmtree(partial, ignore_errors=True)
    return folder


def package_folder(home: str | os.PathLike[str], key: str) -> Path:
    """Where a deployment's code package ``key`` is unpacked on this machine."""
    return Path(home) / "deployments" / "code" / key


def packaged_environment(folder: Path, step: str, environments_root: Path) -> Any:
    """``step``'s @pypi / @conda environment, built here from the lock in the unpacked
    package at ``folder`` (once per lock under ``environments_root``); None without one."""
    entry = json.loads((folder / INFO_NAME).read_text()).get("environments", {}).get(step)
    if entry is None:
        return None
    from stepwell.environments import EnvironmentSpec, EnvironmentStore, Lock

    lock = Lock((folder / entry["lock"]).read_text(), entry["python_version"], entry["type"])
    spec = EnvironmentSpec(entry["type"], entry["python_version"], ())
    store = EnvironmentStore(environments_root)
    interpreter, _ = store.interpreter(spec, [step])
    return store.build(lock, interpreter, spec, [step])
