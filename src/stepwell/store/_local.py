"""LocalStorage: the Storage SPI on a local directory, with atomic writes."""

from __future__ import annotations

import contextlib
import errno
import os
import pathlib
from collections.abc import Iterator

from stepwell.exceptions import BlobNotFoundError, StorageError
from stepwell.store._storage import (
    BlobData,
    BlobInfo,
    Storage,
    as_buffers,
    validate_key,
    validate_prefix,
)


class LocalStorage(Storage):
    """Blobs as files under ``root``; key ``a/b/c`` is the file ``root/a/b/c``.

    Every write goes to a temporary file in the target directory (named
    ``.<name>.tmp-<random>``, hidden from :meth:`list`) and is then moved into
    place, so readers never see a partial file and concurrent writers of one
    key both succeed. With ``fsync=True`` the file and its directory are
    flushed to disk before the call returns.

    Example:
        >>> store = LocalStorage(tmp_path)  # doctest: +SKIP
        >>> store.save_bytes("runs/1/params", [b"header", b"payload"])  # doctest: +SKIP
    """

    def __init__(self, root: pathlib.Path | str, fsync: bool = False) -> None:
        self.root = pathlib.Path(root).expanduser().resolve()
        self.fsync = fsync

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r}, fsync={self.fsync})"

    @property
    def root_url(self) -> str:
        return str(self.root)

    def _path(self, key: str) -> pathlib.Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    def local_path(self, key: str) -> pathlib.Path:
        return self._path(key)

    def save_bytes(self, key: str, data: BlobData, *, overwrite: bool = False) -> None:
        path = self._path(key)
        buffers = as_buffers(data)
        if not overwrite and path.is_file():
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp-{os.urandom(16).hex()}")
            try:
                self._write_temp(tmp, buffers)
                self._publish(tmp, path, overwrite)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
            if self.fsync:
                _fsync_dir(path.parent)
        except OSError as err:
            raise StorageError(f"Could not write blob {key!r} to {path}: {err}", key=key) from err

    def _write_temp(self, tmp: pathlib.Path, buffers: list[memoryview]) -> None:
        with open(tmp, "xb") as f:
            for buffer in buffers:
                f.write(buffer)
            if self.fsync:
                f.flush()
                os.fsync(f.fileno())

    @staticmethod
    def _publish(tmp: pathlib.Path, path: pathlib.Path, overwrite: bool) -> None:
        if overwrite:
            os.replace(tmp, path)
            return
        try:  # link() never replaces an existing file: the first writer wins, others succeed
            os.link(tmp, path)
        except FileExistsError:
            pass
        except OSError as err:  # filesystems without hard links
            if err.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
                raise
            os.replace(tmp, path)

    def load_bytes(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise self._not_found(key) from None
        except OSError as err:
            raise StorageError(f"Could not read blob {key!r} from {path}: {err}", key=key) from err

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def info(self, key: str) -> BlobInfo:
        path = self._path(key)
        try:
            stat = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise self._not_found(key) from None
        if not path.is_file():
            raise self._not_found(key)
        version = f"{stat.st_ino}-{stat.st_mtime_ns}-{stat.st_ctime_ns}"  # ctime: no one sets it
        return BlobInfo(key=key, size=stat.st_size, modified=stat.st_mtime, version=version)

    def touch(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.utime(self._path(key))

    def move(self, key: str, new_key: str) -> None:
        """Rename the file (atomic: a reader sees it at one key or the other, never both)."""
        path, target = self._path(key), self._path(new_key)
        if not path.is_file():
            raise self._not_found(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
            if self.fsync:
                _fsync_dir(target.parent)
                _fsync_dir(path.parent)
        except FileNotFoundError:  # moved by another process meanwhile
            raise self._not_found(key) from None
        except OSError as err:
            raise StorageError(
                f"Could not move blob {key!r} to {new_key!r} in {self.root}: {err}", key=key
            ) from err

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError):
            pass
        except IsADirectoryError:
            raise StorageError(f"Cannot delete {key!r}: it is a key prefix, not a blob.") from None

    def list(self, prefix: str = "") -> Iterator[str]:
        validate_prefix(prefix)
        base, _, _ = prefix.rpartition("/")
        start = self.root.joinpath(*base.split("/")) if base else self.root
        for key in _walk(start, base):
            if key.startswith(prefix):
                yield key

    def _not_found(self, key: str) -> BlobNotFoundError:
        return BlobNotFoundError(f"No blob with key {key!r} in {self.root}.", key=key)


def _walk(directory: pathlib.Path, key_prefix: str) -> Iterator[str]:
    """Yield the keys of the files under ``directory``, skipping hidden (temporary) names."""
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        key = f"{key_prefix}/{entry.name}" if key_prefix else entry.name
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(pathlib.Path(entry.path), key)
        elif entry.is_file():
            yield key


def _fsync_dir(directory: pathlib.Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
