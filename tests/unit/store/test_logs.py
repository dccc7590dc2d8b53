"""Task logs in a datastore: parts while a task runs, one blob when it ends."""

from __future__ import annotations

from pathlib import Path

import pytest

from stepwell.store import LocalStorage
from stepwell.store._logs import PART_SEPARATOR, load_log, log_key, save_log, save_log_part


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "store")


KEY = log_key("F", "1", "start", "2", 0, "stdout")


def test_log_keys_name_the_attempt_and_stream() -> None:
    assert KEY == "logs/F/1/start/2/0.stdout"
    with pytest.raises(ValueError, match="stdout"):
        log_key("F", "1", "start", "2", 0, "stdlog")


def test_parts_read_in_order_until_the_whole_log_replaces_them(storage: LocalStorage) -> None:
    assert load_log(storage, KEY) == b""
    save_log_part(storage, KEY, 0, b"one\n")
    save_log_part(storage, KEY, 4, b"two\n")
    assert load_log(storage, KEY) == b"one\ntwo\n"
    save_log(storage, KEY, b"one\ntwo\nthree\n")
    assert load_log(storage, KEY) == b"one\ntwo\nthree\n"
    assert not [k for k in storage.list("logs/") if PART_SEPARATOR in k]


def test_a_missing_part_stops_the_read_at_what_is_contiguous(storage: LocalStorage) -> None:
    save_log_part(storage, KEY, 0, b"one\n")
    save_log_part(storage, KEY, 8, b"three\n")  # the part at 4 is still on its way
    assert load_log(storage, KEY) == b"one\n"
