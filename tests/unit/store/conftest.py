"""Fixtures shared by the store tests."""

from __future__ import annotations

import pathlib
import sys
from collections.abc import Iterator

import pytest

try:  # until the package is installed into the venv, import it from src/
    import stepwell.store  # noqa: F401
except ImportError:  # pragma: no cover
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3] / "src"))

from stepwell.store import ContentStore, LocalStorage


@pytest.fixture
def local(tmp_path: pathlib.Path) -> LocalStorage:
    return LocalStorage(tmp_path / "store")


@pytest.fixture
def store(local: LocalStorage) -> Iterator[ContentStore]:
    with ContentStore(local) as content_store:
        yield content_store
