"""Sustained sounds: a bank of sinusoids with per-block gain ramps (drone, swell, hum, chord)
and the buzzing sweep of the drones.

Phases are accumulated per partial; amplitudes ramp linearly across each block from the old
gain to the new one, so gain changes never click.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

TWO_PI = 2.0 * np.pi


class Partials:
    """``count`` sinusoids with settable frequencies, target gains and speaker gains."""

    def __init__(self, sample_rate: int, channels: int, block: int, count: int) -> None:
        self.sample_rate = sample_rate
        self.block = block
        self.freqs = np.zeros(count)
        self.target = np.zeros(count)
        self.current = np.zeros(count)
        self.pan = np.zeros((count, channels))
        self._phase = np.zeros(count)
        self._n = np.arange(block, dtype=np.float64)
        self._ramp = self._n / block
        self._work = np.zeros((count, block))
        self._amps = np.zeros((count, block))
        self._mix = np.zeros((block, channels))

    def render(self, out: NDArray[np.float32]) -> None:
        nyquist = 0.45 * self.sample_rate
        self.target[(self.freqs <= 0) | (self.freqs >= nyquist)] = 0.0
        if not (self.target.any() or self.current.any()):
            return
        w = TWO_PI * self.freqs / self.sample_rate
        np.multiply(w[:, None], self._n[None, :], out=self._work)
        self._work += self._phase[:, None]
        np.sin(self._work, out=self._work)
        np.multiply((self.target - self.current)[:, None], self._ramp[None, :], out=self._amps)
        self._amps += self.current[:, None]
        self._work *= self._amps
        np.dot(self._work.T, self.pan, out=self._mix)
        out += self._mix
        self._phase = (self._phase + w * self.block) % TWO_PI
        self.current[:] = self.target
        self.current[np.abs(self.current) < 1e-7] = 0.0


class Envelope:
    """Attack, hold, release (linear up, exponential down), evaluated once per block."""

    def __init__(self) -> None:
        self.start_s = -1e9
        self.attack_s = 1.0
        self.hold_s = 0.0
        self.release_s = 1.0
        self.peak = 0.0

    def trigger(self, now_s: float, peak: float, attack_s: float, hold_s: float, release_s: float) -> None:
        self.peak = max(peak, self.value(now_s))
        self.start_s, self.attack_s, self.hold_s, self.release_s = now_s, attack_s, hold_s, release_s

    def value(self, now_s: float) -> float:
        age = now_s - self.start_s
        if age < 0:
            return 0.0
        if age < self.attack_s:
            return self.peak * age / self.attack_s
        age -= self.attack_s
        if age < self.hold_s:
            return self.peak
        decay = float(np.exp(-(age - self.hold_s) * 6.9 / self.release_s))  # -60 dB at release_s
        return self.peak * decay if decay > 1e-4 else 0.0


class Buzz:
    """The drones: a band-limited sawtooth whose pitch and place sweep, amplitude-modulated."""

    HARMONICS = 24

    def __init__(self, sample_rate: int, channels: int, block: int) -> None:
        self.sample_rate = sample_rate
        self.block = block
        self.channels = channels
        self.envelope = Envelope()
        self.f_start = 60.0
        self.f_end = 180.0
        self._phase = 0.0
        self._mod_phase = 0.0
        self._k = np.arange(1, self.HARMONICS + 1, dtype=np.float64)
        self._tone = np.zeros((self.HARMONICS, block))
        self._phases = np.zeros(block)
        self.pan_from = np.zeros(channels, np.float32)
        self.pan_to = np.zeros(channels, np.float32)

    def render(self, out: NDArray[np.float32], now_s: float) -> None:
        level0 = self.envelope.value(now_s)
        level1 = self.envelope.value(now_s + self.block / self.sample_rate)
        if level0 == 0.0 and level1 == 0.0:
            return
        env = self.envelope
        length = env.attack_s + env.hold_s + env.release_s * 0.5
        progress = min(1.0, max(0.0, (now_s - env.start_s) / length))
        freq = self.f_start + (self.f_end - self.f_start) * progress
        w = TWO_PI * freq / self.sample_rate
        np.multiply(np.arange(1, self.block + 1, dtype=np.float64), w, out=self._phases)
        self._phases += self._phase
        self._phase = float(self._phases[-1] % TWO_PI)
        np.multiply(self._k[:, None], self._phases[None, :], out=self._tone)
        np.sin(self._tone, out=self._tone)
        weights = np.where(self._k * freq < 0.45 * self.sample_rate, 1.0 / self._k, 0.0)
        wave = weights @ self._tone
        # the rotor flutter: 23 Hz amplitude modulation
        mod_w = TWO_PI * 23.0 / self.sample_rate
        flutter = 0.6 + 0.4 * np.sin(self._mod_phase + mod_w * np.arange(self.block))
        self._mod_phase = (self._mod_phase + mod_w * self.block) % TWO_PI
        wave *= flutter * np.linspace(level0, level1, self.block, endpoint=False) * 0.5
        pan = self.pan_from + (self.pan_to - self.pan_from) * progress
        out += wave[:, None].astype(np.float32) * pan[None, :]
