"""Failed sign-ins per client address, in a sliding window, kept in memory.

The counts live in the server process only: a restart forgets them, and
several server processes count apart. That is enough for what the limit is
for (a token has 256 random bits: guessing one is hopeless; the limit keeps
a misbehaving client from flooding the store and the log). Behind a reverse
proxy every client has the proxy's address, so they share one count.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

MAX_FAILURES = 5
WINDOW = 60.0
_MAX_CLIENTS = 10_000  # addresses tracked at most; the oldest are forgotten first


class FailureLimiter:
    """Refuses a client that failed ``max_failures`` times in the last ``window`` seconds.

    Args:
        max_failures: failures allowed in a window; the next attempt is refused.
        window: the window's length in seconds.
        clock: monotonic seconds (tests inject one).

    Example:
        >>> limiter = FailureLimiter(max_failures=2, window=60)
        >>> limiter.record_failure("10.0.0.7"), limiter.record_failure("10.0.0.7")
        (1, 2)
        >>> limiter.retry_after("10.0.0.7") > 0
        True
    """

    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window: float = WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_failures < 1 or window <= 0:
            raise ValueError(
                f"Invalid rate limit: {max_failures} failures per {window} s; "
                "expected at least 1 failure per a positive number of seconds."
            )
        self.max_failures = max_failures
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> float | None:
        """Seconds until ``client`` may try again, or ``None`` if it may now."""
        with self._lock:
            now = self._clock()
            times = self._recent(client, now)
            if times is None or len(times) < self.max_failures:
                return None
            return max(0.0, times[0] + self.window - now)

    def record_failure(self, client: str) -> int:
        """Count a failure of ``client``; return its failures in the window (at most the limit)."""
        with self._lock:
            now = self._clock()
            times = self._recent(client, now)
            if times is None:
                self._forget_some(now)
                times = self._failures[client] = deque()
            times.append(now)
            while len(times) > self.max_failures:  # older ones no longer decide anything
                times.popleft()
            return len(times)

    def _recent(self, client: str, now: float) -> deque[float] | None:
        times = self._failures.get(client)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[client]
            return None
        return times

    def _forget_some(self, now: float) -> None:
        """Keep at most ``_MAX_CLIENTS`` addresses: drop expired ones, then the oldest."""
        if len(self._failures) < _MAX_CLIENTS:
            return
        for client in list(self._failures):
            self._recent(client, now)
        while len(self._failures) >= _MAX_CLIENTS:
            del self._failures[next(iter(self._failures))]
