"""@pypi tests: uv against a package index on 127.0.0.1 serving real wheels (never PyPI).

The wheels are downloaded once by scripts/test.sh (tests/environments/_wheelhouse.py);
without them these tests skip, or fail under STEPWELL_REQUIRE_WHEELHOUSE=1 (CI).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ._wheelhouse import DONE, WHEELHOUSE


@pytest.fixture(scope="session")
def wheelhouse() -> Path:
    if not DONE.exists():
        message = (
            f"the @pypi test wheels are not in {WHEELHOUSE}: run tests/environments/_wheelhouse.py"
        )
        if os.environ.get("STEPWELL_REQUIRE_WHEELHOUSE"):
            pytest.fail(message)
        pytest.skip(message)
    pytest.importorskip("uv", reason="@pypi environments need uv: pip install 'stepwell[pypi]'")
    return WHEELHOUSE


@pytest.fixture(scope="session")
def package_index(wheelhouse: Path) -> Iterator[Any]:
    from stepwell.testing.pypiindex import PackageIndex

    with PackageIndex.start([wheelhouse]) as index:
        yield index


@pytest.fixture(scope="session")
def uv_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("uv-cache")


@pytest.fixture
def uv_index(package_index: Any, uv_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """uv resolves from the loopback index only, with a cache private to this test session."""
    monkeypatch.setenv("UV_INDEX_URL", package_index.url)
    monkeypatch.setenv("UV_CACHE_DIR", str(uv_cache))
    monkeypatch.setenv("UV_NO_CONFIG", "1")
    for name in ("UV_EXTRA_INDEX_URL", "UV_FIND_LINKS", "UV_OFFLINE", "UV_DEFAULT_INDEX"):
        monkeypatch.delenv(name, raising=False)
    return package_index
