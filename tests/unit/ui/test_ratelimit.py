"""The sign-in failure limit: N failures per client address in a sliding window."""

from __future__ import annotations

import pytest

from stepwell.ui._ratelimit import FailureLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_limit_applies_after_n_failures_and_lifts_when_the_window_passes() -> None:
    clock = Clock()
    limiter = FailureLimiter(max_failures=3, window=60, clock=clock)
    for expected in (1, 2):
        assert limiter.record_failure("10.0.0.1") == expected
        assert limiter.retry_after("10.0.0.1") is None
        clock.now += 10
    assert limiter.record_failure("10.0.0.1") == 3
    assert limiter.retry_after("10.0.0.1") == pytest.approx(40)  # the first failure was 20 s ago
    clock.now += 39
    assert limiter.retry_after("10.0.0.1") == pytest.approx(1)
    clock.now += 1  # the first failure leaves the window: 2 of 3 remain
    assert limiter.retry_after("10.0.0.1") is None
    assert limiter.record_failure("10.0.0.1") == 3
    assert limiter.retry_after("10.0.0.1") == pytest.approx(10)


def test_each_client_address_counts_apart() -> None:
    limiter = FailureLimiter(max_failures=2, window=60, clock=Clock())
    limiter.record_failure("10.0.0.1")
    limiter.record_failure("10.0.0.1")
    assert limiter.retry_after("10.0.0.1") is not None
    assert limiter.retry_after("10.0.0.2") is None
    assert limiter.record_failure("10.0.0.2") == 1


def test_forgotten_addresses_keep_memory_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from stepwell.ui import _ratelimit

    monkeypatch.setattr(_ratelimit, "_MAX_CLIENTS", 3)
    clock = Clock()
    limiter = FailureLimiter(max_failures=1, window=60, clock=clock)
    for n in range(5):
        limiter.record_failure(f"10.0.0.{n}")
    assert limiter.retry_after("10.0.0.4") is not None  # the newest are kept
    assert limiter.retry_after("10.0.0.0") is None  # the oldest were forgotten first


@pytest.mark.parametrize(("failures", "window"), [(0, 60), (5, 0), (-1, 10)])
def test_a_meaningless_limit_is_refused(failures: int, window: float) -> None:
    with pytest.raises(ValueError, match="Invalid rate limit"):
        FailureLimiter(max_failures=failures, window=window)
