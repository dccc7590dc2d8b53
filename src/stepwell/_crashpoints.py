"""Named places where a test makes this process die as ``kill -9`` would.

The crash-injection tests (tests/crash/) set ``STEPWELL_CRASH_AT`` to
``POINT``, ``POINT@STEP`` (only in a task of that step) or ``POINT#N`` (the
N-th time this process passes the point, from 1), then check that ``resume``
and ``stepwell verify`` find a store where no finished task is lost and no
artifact points at a missing or wrong blob. Unset (always, outside those
tests) a point costs one comparison. ``stepwell scheduler`` has two:
``scheduler.after-claim`` (a fire claimed, its run not started) and
``scheduler.after-start`` (the run started, its fire not yet marked). This
module imports nothing of stepwell, so every layer may call it.
"""

from __future__ import annotations

import os
import signal

_SPEC = os.environ.get("STEPWELL_CRASH_AT") or None
_passes: dict[str, int] = {}


def crash_point(name: str, step: str | None = None) -> None:
    """Die here (SIGKILL to this process) when ``STEPWELL_CRASH_AT`` names this point."""
    if _SPEC is None or not _SPEC.startswith(name):
        return
    point, _, count = _SPEC.partition("#")
    point, _, only_step = point.partition("@")
    if point != name or (only_step and only_step != step):
        return
    _passes[name] = _passes.get(name, 0) + 1
    if not count or _passes[name] == int(count):
        os.kill(os.getpid(), signal.SIGKILL)
