"""The metadata conformance suite, run against the SQLite store."""

from __future__ import annotations

import pytest

from stepwell.metadata import SqliteMetadataStore
from stepwell.testing.metadata_conformance import MetadataStoreConformance


class TestSqliteMetadataStore(MetadataStoreConformance):
    @pytest.fixture
    def store(self, tmp_path, clock):
        store = SqliteMetadataStore(tmp_path / "meta" / "stepwell.db", clock=clock)
        yield store
        store.close()
