"""Tempo from MIDI clock (24 ticks per quarter note) or from tapping.

:class:`ClockFollower` fits a straight line through the times of the last four beats
of ticks (least squares, from two beats on): that averages out the jitter of USB and of
JACK's period quantisation, and the sliding window makes a tempo change a smooth ramp.
:class:`TapTempo` takes the median interval of the last taps. Both are pure: they are
given timestamps in seconds and never read a clock themselves.
"""

from __future__ import annotations

import itertools
import statistics
from collections import deque

PPQN = 24
MIN_BPM, MAX_BPM = 20.0, 300.0


class ClockFollower:
    """Follows MIDI clock ticks; :attr:`bpm` is ``None`` until enough ticks arrived."""

    def __init__(self, window_ticks: int = 4 * PPQN, first_ticks: int = 2 * PPQN, timeout_s: float = 1.0) -> None:
        self._times: deque[float] = deque(maxlen=window_ticks)
        self._first_ticks = first_ticks  # ticks needed for a first estimate: short fits are noisy
        self.timeout_s = timeout_s
        self.bpm: float | None = None
        self.running = False  # between start/continue and stop

    def tick(self, t: float) -> None:
        if self._times:
            interval = t - self._times[-1]
            # A gap (stop, cable pulled) starts a new fit. Bunched or late ticks do not: a busy
            # machine delivers them in bursts, and the fit averages that out.
            if interval < 0 or interval > self.timeout_s:
                self._times.clear()
                self.bpm = None  # no estimate until the new fit has two beats
        self._times.append(t)
        fitted = self._fitted_bpm()
        if fitted is not None:
            self.bpm = fitted

    def _fitted_bpm(self) -> float | None:
        count = len(self._times)
        if count < self._first_ticks:
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
