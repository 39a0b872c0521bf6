"""A token bucket per credential: ``rate`` operations a second on average, ``burst`` at once,
in real (monotonic) time, whatever the business clock says."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from gql_analytics.errors import RateLimited


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        *,
        most_keys: int = 100_000,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._most_keys = most_keys

    def take(self, key: str) -> None:
        """Spend one token of ``key``'s bucket, or raise ``RateLimited`` with the wait."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._most_keys:
                self._buckets.clear()  # forget idle callers rather than grow without bound
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        elapsed = max(now - bucket.at, 0.0)
        bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.rate)
        bucket.at = now
        if bucket.tokens < 1:
            raise RateLimited((1 - bucket.tokens) / self.rate)
        bucket.tokens -= 1
