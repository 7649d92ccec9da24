"""Measured health of a running app: frame times, fps, and the last errors with their time.

Plain Python with a lock, so the tick (GUI or headless thread), the status server thread
and the control window can all read it. Nothing here imports Qt.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorEntry:
    """One problem shown to the operator: when (wall clock), where from, and what."""

    t: float
    source: str
    message: str

    def as_dict(self) -> dict[str, object]:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self.t))
        return {"time": stamp, "t": round(self.t, 3), "source": self.source, "message": self.message}


class ErrorLog:
    """The last ``capacity`` errors, newest last; also counts every error ever added."""

    def __init__(self, capacity: int = 50) -> None:
        self._items: deque[ErrorEntry] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self.total = 0

    def add(self, source: str, message: str) -> ErrorEntry:
        entry = ErrorEntry(time.time(), source, message)
        with self._lock:
            self._items.append(entry)
            self.total += 1
        return entry

    def last(self, count: int = 10) -> list[ErrorEntry]:
        with self._lock:
            return list(self._items)[-count:]


class ErrorLogHandler(logging.Handler):
    """Feeds WARNING and above from Myco's loggers into the operator's error list."""

    def __init__(self, errors: ErrorLog) -> None:
        super().__init__(logging.WARNING)
        self._errors = errors

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._errors.add(record.name.removeprefix("installation."), record.getMessage())
        except Exception:  # a log handler must never raise into the caller
            self.handleError(record)


class FrameClock:
    """Frame durations and completion times of the last few seconds.

    ``frame_done(duration_s)`` is called once per completed output frame (or engine tick
    when headless): a frame that was not completed is not counted, so a stalled draw shows
    as a falling fps rather than a healthy one.
    """

    def __init__(self, window: int = 600) -> None:
        self._durations: deque[float] = deque(maxlen=window)
        self._stamps: deque[float] = deque(maxlen=window)
        self._lock = threading.Lock()
        self.frames = 0

    def frame_done(self, duration_s: float, now: float | None = None) -> None:
        stamp = time.monotonic() if now is None else now
        with self._lock:
            self._durations.append(duration_s)
            self._stamps.append(stamp)
            self.frames += 1

    def fps(self, now: float | None = None, span_s: float = 2.0) -> float:
        """Frames completed per second over the last ``span_s`` seconds."""
        stamp = time.monotonic() if now is None else now
        with self._lock:
            recent = [s for s in self._stamps if stamp - s <= span_s]
        if len(recent) < 2:
            return 0.0
        elapsed = max(stamp - recent[0], recent[-1] - recent[0])
        return (len(recent) - 1) / elapsed if elapsed > 0 else 0.0

    def durations_ms(self) -> list[float]:
        with self._lock:
            return [d * 1000.0 for d in self._durations]

    def percentiles_ms(self) -> dict[str, float]:
        """p50 and p99 of the recent frame durations in milliseconds (0 before any frame)."""
        values = sorted(self.durations_ms())
        if not values:
            return {"p50": 0.0, "p99": 0.0}
        return {"p50": round(_percentile(values, 0.5), 3), "p99": round(_percentile(values, 0.99), 3)}


def _percentile(ordered: list[float], q: float) -> float:
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]
