"""Where a sound sits among the speakers: equal-power panning for 2..N channels."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray


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
    rows = [speaker_gains((i + 0.5) / count, 0.5 + 0.3 * math.sin(i), channels, layout) for i in range(count)]
    return np.array(rows, np.float32).reshape(count, channels)
