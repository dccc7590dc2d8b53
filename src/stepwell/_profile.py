"""``profile``: time a block of code, as Metaflow's ``profile`` context manager does.

Example:
    >>> from stepwell import profile
    >>> with profile("load data"):          # doctest: +SKIP
    ...     data = load()
    PROFILE: load data starting
    PROFILE: load data completed in 412ms

With a ``stats_dict`` nothing is printed: the elapsed milliseconds are added
to ``stats_dict[label]`` (so a label timed in a loop accumulates).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager


@contextmanager
def profile(label: str, stats_dict: MutableMapping[str, int] | None = None) -> Iterator[None]:
    """Time the ``with`` block: print its start and duration, or add it to ``stats_dict``."""
    if stats_dict is None:
        print(f"PROFILE: {label} starting")
    began = time.perf_counter()
    try:
        yield
    finally:
        elapsed_ms = int((time.perf_counter() - began) * 1000)
        if stats_dict is None:
            print(f"PROFILE: {label} completed in {elapsed_ms}ms")
        else:
            stats_dict[label] = stats_dict.get(label, 0) + elapsed_ms
