"""metadata() / get_metadata() / default_metadata(): which store the Client reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from stepwell import default_metadata, get_metadata, metadata
from stepwell.exceptions import ConfigError


def test_switching_to_another_local_home_and_back(stepwell_home: Path, tmp_path: Path) -> None:
    other = tmp_path / "other-home"
    other.mkdir()
    assert get_metadata() == f"local@{stepwell_home}"
    assert metadata(f"local@{other}") == f"local@{other.resolve()}"
    assert get_metadata() == f"local@{other.resolve()}"
    assert default_metadata() == f"local@{stepwell_home}"


def test_unsupported_providers_say_what_is_supported(stepwell_home: Path) -> None:
    with pytest.raises(ConfigError, match="Supported: 'local'"):
        metadata("service@https://mf.example.com")
    with pytest.raises(ConfigError, match="is not a directory"):
        metadata("local@/no/such/home")
    assert get_metadata() == f"local@{stepwell_home}"
