"""The metadata conformance suite, run against the PostgreSQL store on a real server."""

from __future__ import annotations

import pytest

from stepwell.metadata import PostgresMetadataStore
from stepwell.testing.metadata_conformance import MetadataStoreConformance


class TestPostgresMetadataStore(MetadataStoreConformance):
    @pytest.fixture
    def store(self, pg_url, clock):
        store = PostgresMetadataStore(pg_url, clock=clock)
        yield store
        store.close()
