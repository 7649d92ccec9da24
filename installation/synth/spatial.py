"""Where a sound sits among the speakers.

Without a speaker layout: equal-power panning between the two nearest of N speakers evenly
in a line or a ring (``synth.speaker_layout``). With the venue's speakers (:class:`SpeakerLayout`):
distance-based amplitude panning, DBAP (Lossius, Baltazar & de la Hogue, "DBAP - Distance-Based
Amplitude Panning", ICMC 2009): every speaker plays the sound, with a gain falling with its
distance from the sound's position,

    g_i = k / d_i^a,   d_i = sqrt(|p - s_i|^2 + r_s^2),   a = R / (20 log10 2),
    k = 1 / sqrt(sum_i 1 / d_i^(2a))                        (constant power: sum g_i^2 = 1)

with R the rolloff in dB per doubling of the distance (6 dB: a = 1, the inverse distance law)
and r_s the spatial blur (keeps the gains finite at a speaker and softens its pull). DBAP, not
VBAP: an installation's speakers stand where the room allows (corners, pillars, a cluster by
the door), not on a ring around one listening spot, and visitors walk everywhere; DBAP needs
no listener position and no triangulation, and takes any layout.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from installation.core.speakers import DEFAULT_BLUR, DEFAULT_ROLLOFF_DB, AudioSetup

CACHE_SIZE = 4096  # positions whose gains are kept (a node that stays put is computed once)


@dataclass(frozen=True)
class SpeakerLayout:
    """Plain data (picklable, for the audio process): where each speaker stands and its output."""

    positions: tuple[tuple[float, float], ...]  # 0..1 of the canvas, x right, y down
    outputs: tuple[int, ...]  # 0-based output channel of each speaker
    trims: tuple[float, ...] = ()  # linear gain of each speaker (default 1)
    rolloff_db: float = DEFAULT_ROLLOFF_DB
    blur: float = DEFAULT_BLUR
    aspect: float = 1.0  # the canvas's width / height: distances are measured in canvas heights

    @classmethod
    def of(cls, setup: AudioSetup, canvas: tuple[int, int] | None = None) -> SpeakerLayout | None:
        """The layout of a venue's speakers (None without speakers); ``canvas``: its size in pixels."""
        if not setup.speakers:
            return None
        aspect = canvas[0] / canvas[1] if canvas and canvas[1] > 0 else 1.0
        return cls(tuple(s.position for s in setup.speakers), tuple(s.channel - 1 for s in setup.speakers),
                   tuple(s.gain for s in setup.speakers), setup.rolloff_db, setup.blur, aspect)

    def channel_trims(self, channels: int) -> NDArray[np.float32]:
        """The gain of every output: a speaker's trim, 0 where no speaker stands."""
        trims = np.zeros(channels, np.float32)
        for index, output in enumerate(self.outputs):
            if output < channels:
                trims[output] = self.trims[index] if index < len(self.trims) else 1.0
        return trims


def dbap_gains(x: float, y: float, positions: NDArray[np.float64], rolloff_db: float = DEFAULT_ROLLOFF_DB,
               blur: float = DEFAULT_BLUR, aspect: float = 1.0) -> NDArray[np.float64]:
    """DBAP gains (sum of squares 1) of one point for speakers at ``positions`` (S, 2)."""
    exponent = rolloff_db / (20.0 * math.log10(2.0))
    dx = (positions[:, 0] - x) * aspect
    dy = positions[:, 1] - y
    distance = np.sqrt(dx * dx + dy * dy + max(blur, 1e-4) ** 2)
    weights = distance ** -exponent
    return weights / math.sqrt(float(np.sum(weights * weights)))


class Panner:
    """Gains (channels,) for a point of the canvas: DBAP over the venue's speakers, else the
    line or ring of :func:`speaker_gains`. With speakers, the gains of a position are computed
    once and kept (a bounded cache), so a note costs a lookup."""

    def __init__(self, channels: int, layout: SpeakerLayout | None = None) -> None:
        self.channels = channels
        self.layout = layout
        self._cache: dict[tuple[float, float], NDArray[np.float32]] = {}
        if layout is not None:
            self._positions = np.array(layout.positions, np.float64).reshape(-1, 2)
            self._outputs = np.array([o for o in layout.outputs if o < channels], np.int64)
            self._positions = self._positions[np.array(layout.outputs) < channels]
            if not len(self._outputs):
                raise ValueError(f"no speaker on the {channels} channels")

    def gains(self, x: float, y: float, shape: str = "line") -> NDArray[np.float32]:
        layout = self.layout
        if layout is None:
            return speaker_gains(x, y, self.channels, shape)
        key = (round(x, 4), round(y, 4))
        cached = self._cache.get(key)
        if cached is None:
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            cached = np.zeros(self.channels, np.float32)
            cached[self._outputs] = dbap_gains(key[0], key[1], self._positions, layout.rolloff_db, layout.blur,
                                               layout.aspect)
            self._cache[key] = cached
        return cached.copy()

    def spread(self, count: int, shape: str = "line") -> NDArray[np.float32]:
        """Gains (count, channels) that spread ``count`` sources over the speakers (the drone, pads)."""
        if self.layout is None:
            return spread_gains(count, self.channels, shape)
        rows = [self.gains(*spread_point(i, count)) for i in range(count)]
        return np.array(rows, np.float32).reshape(count, self.channels)

    def outputs(self) -> Sequence[int]:
        """The outputs that have a speaker (all of them without a layout)."""
        return range(self.channels) if self.layout is None else [int(o) for o in self._outputs]


def spread_point(index: int, count: int) -> tuple[float, float]:
    """Where the ``index``-th of ``count`` spread sources sits: across the canvas, wandering in y."""
    return (index + 0.5) / count, 0.5 + 0.3 * math.sin(index)


def speaker_gains(x: float, y: float, channels: int, layout: str = "line") -> NDArray[np.float32]:
    """Gains (sum of squares 1) that place a point of the canvas (0..1, 0..1) among the speakers.

    ``line``: speakers evenly spaced left to right, the point panned between the two nearest
    by its x. ``ring``: speakers evenly around the canvas centre, starting in front-left and going
    clockwise; the point panned between the two nearest by its angle, spread to all as it nears
    the centre. Mono gets everything.
    """
    gains = np.zeros(channels, np.float32)
    if channels == 1:
        gains[0] = 1.0
        return gains
    x = min(1.0, max(0.0, x))
    y = min(1.0, max(0.0, y))
    if layout == "ring" and channels > 2:
        dx, dy = x - 0.5, y - 0.5
        radius = min(1.0, 2.0 * math.hypot(dx, dy))
        angle = (math.atan2(dx, -dy) + math.pi / channels) % (2 * math.pi)  # 0 at the top, clockwise
        position = angle / (2 * math.pi) * channels
        left = int(position) % channels
        right = (left + 1) % channels
        fraction = position - int(position)
        gains[left] = math.cos(fraction * math.pi / 2)
        gains[right] = math.sin(fraction * math.pi / 2)
        # near the centre the sound spreads to every speaker
        gains *= radius
        gains += (1.0 - radius) / math.sqrt(channels)
        return (gains / float(np.sqrt(np.sum(gains * gains)))).astype(np.float32)
    position = x * (channels - 1)
    left = min(channels - 2, int(position))
    fraction = position - left
    gains[left] = math.cos(fraction * math.pi / 2)
    gains[left + 1] = math.sin(fraction * math.pi / 2)
    return gains


def spread_gains(count: int, channels: int, layout: str = "line") -> NDArray[np.float32]:
    """Gains (count, channels) that spread ``count`` sources evenly over the speakers (for pads)."""
    rows = [speaker_gains(*spread_point(i, count), channels, layout) for i in range(count)]
    return np.array(rows, np.float32).reshape(count, channels)
