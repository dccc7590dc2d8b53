"""The per-process backend and artifact cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from stepwell.client import get_namespace, namespace, reset_client
from stepwell.client._backend import ArtifactCache, get_backend


def test_cache_drops_least_recently_used_past_its_budget() -> None:
    cache = ArtifactCache(budget=10)
    cache.put("a", "A", 4)
    cache.put("b", "B", 4)
    assert cache.get("a") == (True, "A")  # a is now the most recent
    cache.put("c", "C", 4)  # 12 > 10: b goes
    assert cache.get("b") == (False, None)
    assert cache.get("a") == (True, "A") and cache.get("c") == (True, "C")
    cache.put("huge", "H", 11)  # larger than the whole budget: never kept
    assert cache.get("huge") == (False, None)
    assert len(cache) == 2


def test_backend_is_built_once_and_follows_the_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reset_client()
    first = get_backend()
    assert get_backend() is first
    assert first.home == (tmp_path / "stepwell-home").resolve()
    assert first.username == "tester"
    monkeypatch.setenv("STEPWELL_HOME", str(tmp_path / "other"))
    second = get_backend()
    assert second is not first and second.home == (tmp_path / "other").resolve()
    monkeypatch.setenv("STEPWELL_USER", "ada")
    assert get_backend().username == "ada"
    assert get_namespace() == "user:ada"


def test_stores_open_lazily(tmp_path: Path) -> None:
    reset_client()
    backend = get_backend()
    assert not (tmp_path / "stepwell-home" / "stepwell.db").exists()
    assert backend.metadata.list_flows() == []
    assert (tmp_path / "stepwell-home" / "stepwell.db").exists()
    assert backend.metadata is backend.metadata and backend.store is backend.store


def test_reset_client_restores_the_default_namespace() -> None:
    namespace("somewhere")
    assert get_namespace() == "somewhere"
    reset_client()
    assert get_namespace() == "user:tester"
