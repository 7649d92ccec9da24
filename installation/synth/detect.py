"""Change detection on live signals: a spike is a deviation from a node's own running baseline.

Sensor potentials drift and carry noise. Each node tracks its baseline with a level and a
trend (double exponential smoothing, time constant ``baseline_s``), so slow drift, even a
steady ramp, is followed without lag, and a running RMS of the residual (its noise scale).
A spike fires when the residual exceeds ``threshold`` times the scale; the node re-arms only
after the residual falls back under ``hysteresis * threshold``, so one slow excursion plays
one note, not a stutter. During an excursion the baseline creeps on (so a lasting step is
absorbed in time) and the noise scale holds (so a burst does not teach it to ignore the next).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# Below this residual (mV) nothing is a spike, however quiet the node: a floor for flat inputs.
MIN_DEVIATION_MV = 0.005
WARMUP_S = 2.0


@dataclass(frozen=True)
class Trigger:
    index: int  # into the node arrays of the frame that triggered it
    strength: float  # 0..4: how many thresholds over
    rising: bool


class ChangeDetector:
    def __init__(self) -> None:
        self._ids: tuple[str, ...] = ()
        self._state = np.zeros((0, 4))  # level, trend, noise variance, age
        self._armed = np.zeros(0, bool)

    def _align(self, ids: tuple[str, ...], values: NDArray[np.float64]) -> None:
        if ids == self._ids:
            return
        old = {node: i for i, node in enumerate(self._ids)}
        keep = np.array([old.get(node, -1) for node in ids], int)
        found = keep >= 0
        state = np.zeros((len(ids), 4))
        state[:, 0] = values
        state[:, 2] = MIN_DEVIATION_MV ** 2
        armed = np.ones(len(ids), bool)
        state[found] = self._state[keep[found]]
        armed[found] = self._armed[keep[found]]
        self._ids, self._state, self._armed = ids, state, armed

    def update(self, ids: tuple[str, ...], values: NDArray[np.float32], live: NDArray[np.bool_], dt: float,
               threshold: float, hysteresis: float, baseline_s: float) -> list[Trigger]:
        """Feed one frame's potentials; return the spikes of live nodes."""
        x = np.nan_to_num(values.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        self._align(ids, x)
        if dt <= 0:
            return []
        level, trend, variance, age = self._state.T
        predicted = level + trend * dt
        residual = x - predicted
        scale = np.sqrt(np.maximum(variance, MIN_DEVIATION_MV ** 2))
        size = np.abs(residual) / scale
        ready = live & (age >= WARMUP_S)
        fire = ready & self._armed & (size > threshold)
        self._armed = np.where(fire, False, self._armed | (size < hysteresis * threshold))
        calm = ~ready | (size < threshold)
        alpha = min(0.5, dt / baseline_s)
        gain = np.where(calm, 2 * alpha, alpha / 4)
        self._state[:, 0] = predicted + gain * residual
        self._state[:, 1] = trend + np.where(calm, alpha * alpha / dt, 0.0) * residual
        # the noise scale learns fast while warming up, then over a few baseline times
        beta = np.where(age < WARMUP_S, min(1.0, dt / 0.3), min(1.0, dt / (3 * baseline_s)))
        self._state[:, 2] = variance + np.where(calm, beta, 0.0) * (residual * residual - variance)
        self._state[:, 3] = age + dt
        return [Trigger(int(i), float(min(4.0, size[i] / threshold)), bool(residual[i] > 0))
                for i in np.flatnonzero(fire)]
