"""Shared fixtures: every test gets its own STEPWELL_HOME under a temporary directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

FLOWS = Path(__file__).parent / "flows"


@pytest.fixture(autouse=True)
def stepwell_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private store; nothing a test does touches ~/.stepwell."""
    from stepwell.client import reset_client

    home = tmp_path / "stepwell-home"
    monkeypatch.setenv("STEPWELL_HOME", str(home))
    monkeypatch.setenv("STEPWELL_USER", "tester")
    reset_client()  # no namespace or open store carried over from another test
    yield home
    reset_client()
