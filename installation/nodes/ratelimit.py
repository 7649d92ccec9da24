"""A token bucket per source: floods are dropped and counted instead of starving the engine."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    def __init__(self, rate_per_s: float = 2000.0, burst: float = 4000.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate_per_s
        self.burst = burst
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # source -> (tokens, last time)

    def allow(self, source: str) -> bool:
        return self.take(source, 1) == 1

    def take(self, source: str, count: int) -> int:
        """How many of ``count`` messages arriving together may pass (a batch takes one lock)."""
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(source, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            allowed = min(count, int(tokens))
            self._buckets[source] = (tokens - allowed, now)
            return allowed
