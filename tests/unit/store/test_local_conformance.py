"""LocalStorage (and an in-memory test double) against the storage conformance suite."""

from __future__ import annotations

import pathlib

import pytest
from store_doubles import MemoryStorage

from stepwell.store import LocalStorage, Storage
from stepwell.testing.storage_conformance import StorageConformance


class TestLocalStorageConformance(StorageConformance):
    @pytest.fixture
    def storage(self, tmp_path: pathlib.Path) -> Storage:
        return LocalStorage(tmp_path / "store")


class TestLocalStorageWithFsyncConformance(StorageConformance):
    @pytest.fixture
    def storage(self, tmp_path: pathlib.Path) -> Storage:
        return LocalStorage(tmp_path / "store", fsync=True)


class TestMemoryStorageConformance(StorageConformance):
    """The suite holds for a non-local backend too (local_path is None)."""

    @pytest.fixture
    def storage(self) -> Storage:
        return MemoryStorage()
