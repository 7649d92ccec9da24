"""Tempo from MIDI clock (24 ticks per quarter note) or from tapping.

:class:`ClockFollower` fits a straight line through the times of the last four beats
of ticks (least squares, from two beats on): that averages out the jitter of USB and of
JACK's period quantisation, and the sliding window makes a tempo change a smooth ramp.
:class:`~installation.core.tempo.TapTempo` takes the median interval of the last taps. Both
are pure: they are given timestamps in seconds and never read a clock themselves.
"""

from __future__ import annotations

from collections import deque

from installation.core.tempo import MAX_BPM, MIN_BPM, TapTempo

PPQN = 24
__all__ = ["PPQN", "ClockFollower", "TapTempo"]  # TapTempo lives with the show's tempo


class ClockFollower:
    """Follows MIDI clock ticks; :attr:`bpm` is ``None`` until enough ticks arrived."""

    def __init__(self, window_ticks: int = 4 * PPQN, first_ticks: int = 2 * PPQN, timeout_s: float = 1.0) -> None:
        self._times: deque[float] = deque(maxlen=window_ticks)
        self.window_ticks = window_ticks
        self._first_ticks = first_ticks  # ticks needed for a first estimate: short fits are noisy
        self.timeout_s = timeout_s
        self.bpm: float | None = None
        self.fitted_t: float | None = None  # the last tick's time on the fitted line (no jitter)
        self.running = False  # between start/continue and stop
        self._next_tick: int | None = None  # the position of the next tick; None before start or a song position
        self.position: int | None = None  # the last tick's position in ticks since the song's start

    @property
    def beat(self) -> float | None:
        """The last tick's beat in the song, when a start or song position told where it is."""
        return None if self.position is None else self.position / PPQN

    def start(self) -> None:
        """MIDI start: the next tick is the song's first beat."""
        self._next_tick, self.running = 0, True

    def locate(self, sixteenths: int) -> None:
        """Song position pointer: the next tick is this many sixteenth notes (6 ticks each) in."""
        self._next_tick = sixteenths * PPQN // 4

    def transport(self, running: bool) -> None:
        """Continue (True) or stop (False): the position holds."""
        self.running = running

    def tick(self, t: float) -> None:
        if self._times:
            interval = t - self._times[-1]
            # A gap (stop, cable pulled) starts a new fit. Bunched or late ticks do not: a busy
            # machine delivers them in bursts, and the fit averages that out.
            if interval < 0 or interval > self.timeout_s:
                self._times.clear()
                self.bpm = self.fitted_t = None  # no estimate until the new fit has two beats
        self._times.append(t)
        if self._next_tick is not None:
            self.position, self._next_tick = self._next_tick, self._next_tick + 1
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
        self.fitted_t = mean_t + seconds_per_tick * (count - 1 - mean_i)
        bpm = 60.0 / (seconds_per_tick * PPQN)
        return bpm if MIN_BPM <= bpm <= MAX_BPM else None
