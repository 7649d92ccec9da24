"""Change detection on live signals: a spike is a deviation from a node's own running baseline.

Sensor potentials drift and carry noise. Each node keeps an exponential running mean (the
baseline, time constant ``baseline_s``) and a running mean absolute deviation (its noise
scale). A spike fires when the deviation exceeds ``threshold`` times the scale, and the node
re-arms only after the deviation falls back under ``hysteresis * threshold`` times the scale,
so one slow excursion plays one note, not a stutter, and drift moves the baseline, not notes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# Below this deviation (mV) nothing is a spike, however quiet the node: a floor for dead-flat inputs.
MIN_DEVIATION_MV = 0.005
WARMUP_S = 1.0


@dataclass(frozen=True)
class Trigger:
    index: int  # into the node arrays of the frame that triggered it
    strength: float  # 0..4: how many thresholds over
    rising: bool


class ChangeDetector:
    def __init__(self) -> None:
        self._ids: tuple[str, ...] = ()
        self._baseline = np.zeros(0)
        self._scale = np.zeros(0)
        self._armed = np.zeros(0, bool)
        self._age = np.zeros(0)

    def _align(self, ids: tuple[str, ...], values: NDArray[np.float32]) -> None:
        if ids == self._ids:
            return
        old = {node: i for i, node in enumerate(self._ids)}
        keep = np.array([old.get(node, -1) for node in ids], int)
        found = keep >= 0
        baseline = values.astype(np.float64)
        scale = np.full(len(ids), MIN_DEVIATION_MV)
        armed = np.ones(len(ids), bool)
        age = np.zeros(len(ids))
        baseline[found] = self._baseline[keep[found]]
        scale[found] = self._scale[keep[found]]
        armed[found] = self._armed[keep[found]]
        age[found] = self._age[keep[found]]
        self._ids, self._baseline, self._scale, self._armed, self._age = ids, baseline, scale, armed, age

    def update(self, ids: tuple[str, ...], values: NDArray[np.float32], live: NDArray[np.bool_], dt: float,
               threshold: float, hysteresis: float, baseline_s: float) -> list[Trigger]:
        """Feed one frame's potentials; return the spikes of live nodes."""
        self._align(ids, values)
        x = values.astype(np.float64)
        deviation = x - self._baseline
        size = np.abs(deviation) / np.maximum(self._scale, MIN_DEVIATION_MV)
        ready = live & (self._age >= WARMUP_S)
        fire = ready & self._armed & (size > threshold)
        self._armed = np.where(fire, False, self._armed | (size < hysteresis * threshold))
        # Excursions feed the baseline slowly and the noise scale not at all, so a burst does not
        # teach the detector to ignore the next one, while a lasting step is absorbed in time.
        calm = ~fire & (size < threshold)
        alpha = min(1.0, dt / baseline_s)
        self._baseline += np.where(calm | ~ready, alpha, alpha / 4) * deviation
        beta = min(1.0, dt / max(0.5, baseline_s / 4))
        self._scale += np.where(calm | ~ready, beta * (np.abs(deviation) - self._scale), 0.0)
        self._scale = np.maximum(self._scale, MIN_DEVIATION_MV / 4)
        self._age += dt
        return [Trigger(int(i), float(min(4.0, size[i] / threshold)), bool(deviation[i] > 0))
                for i in np.flatnonzero(fire)]
