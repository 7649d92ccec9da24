"""Tempo from MIDI clock (24 ticks per quarter note) or from tapping.

:class:`ClockFollower` fits a straight line through the times of the last few beats of
ticks (least squares), which averages out the jitter of USB and of JACK's period
quantisation, then glides the published tempo towards the fit so that it is smooth.
:class:`TapTempo` takes the median interval of the last taps. Both are pure: they are
given timestamps in seconds and never read a clock themselves.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import deque

PPQN = 24
MIN_BPM, MAX_BPM = 20.0, 300.0


class ClockFollower:
    """Follows MIDI clock ticks; :attr:`bpm` is ``None`` until enough ticks arrived."""

    def __init__(self, window_ticks: int = 2 * PPQN, glide_s: float = 0.5, timeout_s: float = 1.0) -> None:
        self._times: deque[float] = deque(maxlen=window_ticks)
        self._glide_s = glide_s
        self._timeout_s = timeout_s
        self._last_t: float | None = None
        self.bpm: float | None = None
        self.running = False
        self.ticks = 0  # ticks since start (song position in 24ths of a beat)

    def tick(self, t: float) -> None:
        if self._times:
            interval = t - self._times[-1]
            expected = self._interval()
            # A gap (stop, cable pulled) or a jump in tempo starts a new fit.
            if interval < 0 or interval > self._timeout_s or (
                expected is not None and not 0.5 * expected < interval < 2.0 * expected
            ):
                self._times.clear()
        self._times.append(t)
        self.ticks += 1
        fitted = self._fitted_bpm()
        if fitted is not None:
            if self.bpm is None or abs(fitted - self.bpm) > 8.0:
                self.bpm = fitted
            elif self._last_t is not None:
                alpha = 1.0 - math.exp(-max(0.0, t - self._last_t) / self._glide_s)
                self.bpm += (fitted - self.bpm) * alpha
        self._last_t = t

    def start(self) -> None:
        self.running = True
        self.ticks = 0

    def resume(self) -> None:
        self.running = True

    def stop(self) -> None:
        self.running = False

    def present(self, t: float) -> bool:
        """Whether clock ticks are arriving (the last one is recent)."""
        return self._last_t is not None and t - self._last_t <= self._timeout_s

    def _interval(self) -> float | None:
        if len(self._times) < 2:
            return None
        return (self._times[-1] - self._times[0]) / (len(self._times) - 1)

    def _fitted_bpm(self) -> float | None:
        count = len(self._times)
        if count < PPQN // 2:
            return None
        mean_i = (count - 1) / 2.0
        mean_t = sum(self._times) / count
        numerator = sum((i - mean_i) * (t - mean_t) for i, t in enumerate(self._times))
        denominator = sum((i - mean_i) ** 2 for i in range(count))
        seconds_per_tick = numerator / denominator
        if seconds_per_tick <= 0:
            return None
        bpm = 60.0 / (seconds_per_tick * PPQN)
        return bpm if MIN_BPM <= bpm <= MAX_BPM else None


class TapTempo:
    """Tempo from taps: the median of the last intervals; a long pause starts over."""

    def __init__(self, keep: int = 6) -> None:
        self._taps: deque[float] = deque(maxlen=keep)

    def tap(self, t: float) -> float | None:
        if self._taps and not 60.0 / MAX_BPM <= t - self._taps[-1] <= 60.0 / MIN_BPM:
            self._taps.clear()
        self._taps.append(t)
        if len(self._taps) < 2:
            return None
        taps = list(self._taps)
        interval = statistics.median(b - a for a, b in itertools.pairwise(taps))
        return 60.0 / interval
