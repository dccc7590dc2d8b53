"""Fixtures shared by the store tests."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest

from stepwell.store import ContentStore, LocalStorage


@pytest.fixture
def local(tmp_path: pathlib.Path) -> LocalStorage:
    return LocalStorage(tmp_path / "store")


@pytest.fixture
def store(local: LocalStorage) -> Iterator[ContentStore]:
    with ContentStore(local) as content_store:
        yield content_store
