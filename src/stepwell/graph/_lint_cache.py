"""Lint checks of ``@cache``: the combinations whose reuse would be wrong.

- ``cache-with-parallel``: a ``@parallel`` gang's tasks run together and talk
  to each other while they run; reusing some of them from an earlier run, and
  running the others, cannot be right, so the combination is refused.

``@retry`` and ``@catch`` combine with ``@cache``: only an attempt that ran the
step's code and succeeded records a key, so a failure (caught or not) is never
reused.
"""

from __future__ import annotations

from collections.abc import Iterator

from stepwell.graph._findings import Finding
from stepwell.graph._nodes import StepNode


def cache_checks(node: StepNode) -> Iterator[Finding]:
    """Findings for the decorators of one step that has ``@cache``."""
    if node.decorator("cache") is None:
        return
    if node.is_parallel_step or node.decorator("parallel") is not None:
        yield Finding(
            "cache-with-parallel",
            "is both @cache and @parallel; the tasks of a gang run together and cannot be "
            "reused one by one.",
            node.file,
            node.line,
            node.name,
            f"Remove @cache from '{node.name}', or cache a step before or after the gang.",
        )
