"""Lint of @cache: refused together with @parallel; fine with @retry and @catch."""

from __future__ import annotations

from pathlib import Path

import pytest

from stepwell.exceptions import LintError
from stepwell.flow import load_flow_class
from stepwell.graph import check_flow

FLOWS = Path(__file__).parents[2] / "flows" / "cache"


def test_cache_with_parallel_is_refused_at_the_step():
    flow = load_flow_class(FLOWS / "cache_parallel.py")
    with pytest.raises(LintError) as caught:
        check_flow(flow)
    (finding,) = [f for f in caught.value.findings if f.code == "cache-with-parallel"]
    assert finding.step == "train" and "@cache and @parallel" in finding.message
    assert "Remove @cache from 'train'" in finding.fix
    source = (FLOWS / "cache_parallel.py").read_text().splitlines()
    assert "def train" in source[finding.line - 1] or "@cache" in source[finding.line - 1]


def test_cache_with_retry_and_catch_is_fine():
    node = check_flow(load_flow_class(FLOWS / "catch_flow.py")).nodes["risky"]
    assert {"cache", "catch", "retry"} <= set(node.decorator_names)
