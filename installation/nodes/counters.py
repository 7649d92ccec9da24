"""Per-source counts of readings received, accepted and dropped (by reason), for /status."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

# Every reason a reading or packet can be dropped, so counts are comparable across sources.
REASONS = (
    "malformed", "oversize", "bad_id", "unknown_field", "wrong_type", "not_finite", "out_of_range",
    "missing_field", "unknown_address", "rate_limited", "queue_full", "too_many_nodes", "handler_error",
    "no_venue",  # a projection-mapping message (/myco/output/...) while nothing takes them
)


@dataclass
class SourceCounts:
    received: int = 0
    accepted: int = 0
    dropped: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, object]:
        return {"received": self.received, "accepted": self.accepted, "dropped": dict(self.dropped),
                "dropped_total": sum(self.dropped.values())}


class Counters:
    """Thread-safe: listener threads count, the status page reads :meth:`snapshot`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sources: dict[str, SourceCounts] = {}

    def _get(self, source: str) -> SourceCounts:
        return self._sources.setdefault(source, SourceCounts())

    def received(self, source: str, count: int = 1) -> None:
        with self._lock:
            self._get(source).received += count

    def accepted(self, source: str, count: int = 1) -> None:
        with self._lock:
            self._get(source).accepted += count

    def dropped(self, source: str, reason: str, count: int = 1) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown drop reason {reason!r}")
        with self._lock:
            self._get(source).dropped[reason] += count

    def snapshot(self) -> dict[str, dict[str, object]]:
        with self._lock:
            return {name: counts.as_dict() for name, counts in sorted(self._sources.items())}

    def total_dropped(self, source: str) -> int:
        with self._lock:
            counts = self._sources.get(source)
            return sum(counts.dropped.values()) if counts else 0
