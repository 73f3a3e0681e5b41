"""A token-bucket rate limiter keyed by API key, as the vendors' real limits behave.

Stripe documents 25 requests/s in test mode and 100/s live (vendors.md section 1); Moodle has no
built-in limit (section 6, "host or WAF dependent"), so its limiter is off by default. The bucket
holds one second's worth of tokens (a burst of ``rate`` requests) and refills continuously.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucketLimiter:
    """Per-key token buckets; ``rate_per_second == 0`` disables limiting."""

    def __init__(
        self, rate_per_second: float = 0.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = float(rate_per_second)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    @property
    def rate_per_second(self) -> float:
        return self._rate

    @rate_per_second.setter
    def rate_per_second(self, value: float) -> None:
        if value < 0:
            raise ValueError("rate_per_second must be >= 0")
        with self._lock:
            self._rate = float(value)
            self._buckets.clear()

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()

    def allow(self, key: str) -> bool:
        """Take one token from ``key``'s bucket; ``False`` when the bucket is empty."""
        if self._rate <= 0:
            return True
        capacity = max(self._rate, 1.0)
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (capacity, now))
            tokens = min(capacity, tokens + (now - last) * self._rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return True
            self._buckets[key] = (tokens, now)
            return False
