"""Tests against a real S3-compatible server (moto) started on 127.0.0.1 for this session.

The fixtures (``s3_server``, ``s3_bucket``, ``s3_env``) live in ``tests/conftest.py``,
shared with the team tests that use S3 and PostgreSQL together.
"""

from __future__ import annotations

import pytest

pytest.importorskip("obstore", reason="the S3 tests need obstore: pip install 'stepwell[s3]'")
