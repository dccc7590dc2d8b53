"""The log uploader: in order, parts then the whole log; after a failure it stops trying."""

from __future__ import annotations

from pathlib import Path

from stepwell.exceptions import StorageError
from stepwell.runtime._logs import LogUploader
from stepwell.store import LocalStorage
from stepwell.store._logs import PART_SEPARATOR, load_log


class _Unreachable(LocalStorage):
    calls = 0

    def save_bytes(self, key: str, data: object, *, overwrite: bool = False) -> None:
        type(self).calls += 1
        raise StorageError("Cannot reach the S3 endpoint")


def test_parts_then_the_whole_log_arrive_in_order(tmp_path: Path) -> None:
    log = tmp_path / "0.stdout"
    storage = LocalStorage(tmp_path / "remote")
    uploader = LogUploader(storage)
    log.write_bytes(b"one\n")
    uploader.submit("part", "logs/F/1/s/2/0.stdout", log, 0)
    with open(log, "ab") as f:
        f.write(b"two\n")
    uploader.submit("part", "logs/F/1/s/2/0.stdout", log, 4)
    uploader.submit("whole", "logs/F/1/s/2/0.stdout", log)
    uploader.close()
    assert uploader.errors == []
    assert load_log(storage, "logs/F/1/s/2/0.stdout") == b"one\ntwo\n"
    assert not [k for k in storage.list("logs/") if PART_SEPARATOR in k]


def test_after_a_failure_the_rest_is_skipped_not_retried(tmp_path: Path) -> None:
    log = tmp_path / "0.stdout"
    log.write_bytes(b"line\n")
    uploader = LogUploader(_Unreachable(tmp_path / "remote"))
    for task in range(5):
        uploader.submit("whole", f"logs/F/1/s/{task}/0.stdout", log)
    uploader.close()
    assert len(uploader.errors) == 1 and "Cannot reach" in uploader.errors[0]
    assert uploader.skipped == 4 and _Unreachable.calls == 1
