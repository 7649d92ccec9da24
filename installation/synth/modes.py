"""The voice engine: a bank of decaying sinusoidal modes, rendered a block at a time.

Each mode is a complex exponential ``z * r**n`` (``r = exp(-1/(decay*sr) + i*w)``), so a block
of every active mode is one complex multiply with the mode's precomputed ramp ``r**0..r**(B-1)``,
and no per-sample Python runs. A plucked string is a few harmonic modes with instant attack;
a bell, inharmonic modes with long decays; a grain, pairs of modes of opposite sign whose
difference rises and falls within tens of milliseconds. Modes start at any sample of a
block (their start is masked), so onsets land where the events say.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

SILENT = 1e-5  # -100 dB: a mode below this is free again


class ModeBank:
    def __init__(self, sample_rate: int, channels: int, block: int, capacity: int = 384) -> None:
        self.sample_rate = sample_rate
        self.block = block
        self.capacity = capacity
        self.z = np.zeros(capacity, np.complex128)
        self.step = np.ones(capacity, np.complex128)  # r**block
        self.ramp = np.zeros((capacity, block), np.complex64)
        self.gains = np.zeros((capacity, channels), np.float32)
        self.delay = np.zeros(capacity, np.int64)
        self.active = np.zeros(capacity, bool)
        self._n = np.arange(block, dtype=np.float64)
        self._columns = np.arange(block)
        self.stolen = 0

    def add(self, freqs: NDArray[np.float64], decays_s: NDArray[np.float64], amps: NDArray[np.float64],
            gains: NDArray[np.float32], delay: int) -> None:
        """Start modes ``delay`` samples after the start of the next block (``delay`` may span blocks)."""
        nyquist = 0.45 * self.sample_rate
        keep = (freqs > 10.0) & (freqs < nyquist) & (np.abs(amps) > SILENT)
        freqs, decays_s, amps = freqs[keep], decays_s[keep], amps[keep]
        count = len(freqs)
        if count == 0:
            return
        free = np.flatnonzero(~self.active)
        if len(free) < count:  # steal the quietest modes
            need = count - len(free)
            loudness = np.where(self.active, np.abs(self.z), np.inf)
            victims = np.argpartition(loudness, need - 1)[:need]
            self.active[victims] = False
            self.stolen += need
            free = np.flatnonzero(~self.active)
        slots = free[:count]
        rate = -1.0 / (np.maximum(decays_s, 1e-3) * self.sample_rate) + 1j * 2 * np.pi * freqs / self.sample_rate
        offset = delay % self.block
        self.ramp[slots] = np.exp(rate[:, None] * self._n[None, :])
        self.step[slots] = np.exp(rate * self.block)
        # output at sample n is Re(z * r**n): start in sine phase (no click) at the start sample
        self.z[slots] = -1j * amps * np.exp(-rate * offset)
        self.gains[slots] = gains
        self.delay[slots] = delay
        self.active[slots] = True

    def render(self, out: NDArray[np.float32]) -> None:
        """Add the next block of every active mode into ``out`` (block, channels)."""
        waiting = self.active & (self.delay >= self.block)
        self.delay[waiting] -= self.block
        live = np.flatnonzero(self.active & ~waiting)
        if len(live) == 0:
            return
        block = (self.z[live, None] * self.ramp[live]).real
        starting = self.delay[live] > 0
        if starting.any():
            rows = np.flatnonzero(starting)
            block[rows] *= self._columns[None, :] >= self.delay[live][rows, None]
            self.delay[live[rows]] = 0
        out += (block.T.astype(np.float32) @ self.gains[live])
        self.z[live] *= self.step[live]
        self.active[live] = np.abs(self.z[live]) > SILENT

    def clear(self) -> None:
        self.active[:] = False

    @property
    def voices(self) -> int:
        return int(self.active.sum())


def pluck(freq: float, decay_s: float, brightness: float, detune: float = 0.0) -> tuple[NDArray[np.float64], ...]:
    """Harmonic partials with faster decay higher up; ``detune`` adds beating partners (dissonance)."""
    k = np.arange(1, 8, dtype=np.float64)
    freqs = freq * k * (1 + 0.0008 * k * k)
    amps = (0.15 + 0.85 * brightness) ** (k - 1) / k
    decays = decay_s / (1 + 0.7 * (k - 1) * (1.2 - brightness))
    return _with_detune(freqs, decays, amps, detune)


def bell(freq: float, decay_s: float, brightness: float, detune: float = 0.0) -> tuple[NDArray[np.float64], ...]:
    """Inharmonic bell partials (hum, prime, tierce, quint, nominal...), the prime strongest."""
    ratios = np.array([0.5, 1.0, 1.19, 1.5, 2.0, 2.51, 2.99, 4.07])
    weights = np.array([0.35, 1.0, 0.3, 0.22, 0.4, 0.15, 0.1, 0.06])
    amps = weights * np.where(ratios > 1.0, (0.3 + 0.7 * brightness), 1.0)
    decays = decay_s * np.array([1.6, 1.2, 0.8, 0.7, 0.6, 0.35, 0.3, 0.2]) * 1.5
    return _with_detune(freq * ratios, decays, 0.7 * amps, detune)


def grain(freq: float, decay_s: float, brightness: float, detune: float = 0.0) -> tuple[NDArray[np.float64], ...]:
    """A short tone burst: each partial a pair of modes whose difference rises then falls."""
    k = np.array([1.0, 2.0, 3.0])
    amps = np.array([1.0, 0.3 * brightness, 0.12 * brightness]) * 1.6
    slow = np.full(3, min(0.25, 0.08 + 0.05 * decay_s))
    fast = slow / 6
    freqs, decays, amps2 = _with_detune(freq * k, slow, amps, detune)
    _, fast_decays, _ = _with_detune(freq * k, fast, amps, detune)
    return (np.concatenate([freqs, freqs]), np.concatenate([decays, fast_decays]), np.concatenate([amps2, -amps2]))


def _with_detune(freqs: NDArray[np.float64], decays: NDArray[np.float64], amps: NDArray[np.float64],
                 detune: float) -> tuple[NDArray[np.float64], ...]:
    if detune <= 0.01:
        return freqs, decays, amps
    # a sour partner a fraction of a semitone away beats against every partial
    partner = freqs * 2.0 ** (detune * 0.7 / 12.0)
    return (np.concatenate([freqs, partner]), np.concatenate([decays, decays]),
            np.concatenate([amps, amps * min(0.9, detune)]))


TIMBRE_FUNCTIONS = {"pluck": pluck, "bell": bell, "grain": grain}
