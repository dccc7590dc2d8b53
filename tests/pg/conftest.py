"""Tests against a real PostgreSQL started on 127.0.0.1 for this session.

The fixtures (``pg_server``, ``pg_url``) live in ``tests/conftest.py``, shared
with the team tests that use PostgreSQL and S3 together.
"""

from __future__ import annotations

import pytest

pytest.importorskip("psycopg", reason="the PostgreSQL tests need 'stepwell[postgres]'")
