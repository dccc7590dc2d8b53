"""S3Storage passes the storage conformance suite against a real S3-compatible server."""

from __future__ import annotations

import pytest

from stepwell.store import Storage, get_storage
from stepwell.testing.s3server import S3Server
from stepwell.testing.storage_conformance import StorageConformance


class TestS3Storage(StorageConformance):
    @pytest.fixture
    def storage(self, s3_server: S3Server, s3_bucket: str) -> Storage:
        return get_storage(
            "s3", root=f"s3://{s3_bucket}/some/prefix", endpoint_url=s3_server.endpoint_url
        )
