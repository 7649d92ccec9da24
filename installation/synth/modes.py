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
    """Active modes live in rows ``0..count-1`` of preallocated arrays, so a block works on slices
    (views), and a mode that dies is replaced by one from the end (only those rows move).
    Starts more than a block ahead wait in a short list until their block comes."""

    def __init__(self, sample_rate: int, channels: int, block: int, capacity: int = 384) -> None:
        self.sample_rate = sample_rate
        self.block = block
        self.capacity = capacity
        self.count = 0
        self.z = np.zeros(capacity, np.complex64)
        self.step = np.ones(capacity, np.complex64)  # r**block
        self.ramp = np.zeros((capacity, block), np.complex64)
        self.gains = np.zeros((capacity, channels), np.float32)
        self._work = np.zeros((capacity, block), np.complex64)
        self._n = np.arange(block, dtype=np.float64)
        self._fresh: list[tuple[int, int, int]] = []  # (first row, rows, delay) started this block
        self._waiting: list[tuple[int, tuple[NDArray[np.float64], ...], NDArray[np.float32]]] = []
        self.stolen = 0

    @property
    def voices(self) -> int:
        return self.count

    def add(self, freqs: NDArray[np.float64], decays_s: NDArray[np.float64], amps: NDArray[np.float64],
            gains: NDArray[np.float32], delay: int) -> None:
        """Start modes ``delay`` samples after the start of the next block (``delay`` may span blocks)."""
        nyquist = 0.45 * self.sample_rate
        keep = (freqs > 10.0) & (freqs < nyquist) & (np.abs(amps) > SILENT)
        if not keep.any():
            return
        if delay >= self.block:
            self._waiting.append((delay, (freqs[keep], decays_s[keep], amps[keep]), gains))
            return
        self._start(freqs[keep], decays_s[keep], amps[keep], gains, delay)

    def _start(self, freqs: NDArray[np.float64], decays_s: NDArray[np.float64], amps: NDArray[np.float64],
               gains: NDArray[np.float32], delay: int) -> None:
        count = min(len(freqs), self.capacity)
        freqs, decays_s, amps = freqs[:count], decays_s[:count], amps[:count]
        if self.count + count > self.capacity:  # steal the quietest modes
            need = self.count + count - self.capacity
            victims = np.argpartition(np.abs(self.z[:self.count]), need - 1)[:need]
            self._remove(np.sort(victims))
            self.stolen += need
        rows = slice(self.count, self.count + count)
        rate = -1.0 / (np.maximum(decays_s, 1e-3) * self.sample_rate) + 1j * 2 * np.pi * freqs / self.sample_rate
        self.ramp[rows] = np.exp(rate[:, None] * self._n[None, :])
        self.step[rows] = np.exp(rate * self.block)
        # output at sample n is Re(z * r**n): start in sine phase (no click) at the start sample
        self.z[rows] = -1j * amps * np.exp(-rate * delay)
        self.gains[rows] = gains
        if delay > 0:
            self._fresh.append((self.count, count, delay))
        self.count += count

    def _remove(self, dead: NDArray[np.intp]) -> None:
        """Drop rows ``dead`` (sorted), filling the holes below the new count from the end."""
        new_count = self.count - len(dead)
        holes = dead[dead < new_count]
        tail = np.setdiff1d(np.arange(new_count, self.count), dead, assume_unique=True)
        for array in (self.z, self.step, self.ramp, self.gains):
            array[holes] = array[tail]
        self.count = new_count
        self._fresh.clear()  # rows moved; a fresh mode's masked start is at most one block off

    def render(self, out: NDArray[np.float32]) -> None:
        """Add the next block of every active mode into ``out`` (block, channels)."""
        if self._waiting:
            due = [item for item in self._waiting if item[0] < self.block]
            self._waiting = [(d - self.block, m, g) for d, m, g in self._waiting if d >= self.block]
            for delay, (freqs, decays, amps), gains in due:
                self._start(freqs, decays, amps, gains, delay)
        n = self.count
        if n == 0:
            return
        work = self._work[:n]
        np.multiply(self.z[:n, None], self.ramp[:n], out=work)
        for first, rows, delay in self._fresh:
            work[first:first + rows, :delay] = 0.0
        self._fresh.clear()
        out += work.real.T @ self.gains[:n]
        self.z[:n] *= self.step[:n]
        alive = np.abs(self.z[:n]) > SILENT
        if not alive.all():
            self._remove(np.flatnonzero(~alive))

    def clear(self) -> None:
        self.count = 0
        self._waiting.clear()
        self._fresh.clear()


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
