"""Measurements on rendered audio for the synth tests: loudness, spectra, onsets, pitch classes."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Audio = NDArray[np.float32]


def rms_db(x: Audio) -> float:
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-20))


def peak_db(x: Audio) -> float:
    return float(20 * np.log10(np.max(np.abs(x)) + 1e-20))


def spectrum(x: Audio, rate: int = 48000) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Power spectrum of the mono sum, Hann-windowed."""
    mono = x.mean(axis=1) if x.ndim == 2 else x
    power = np.abs(np.fft.rfft(mono * np.hanning(len(mono)))) ** 2
    return np.fft.rfftfreq(len(mono), 1 / rate), power


def flatness(x: Audio, rate: int = 48000, frame: int = 2048) -> float:
    """Mean spectral flatness (geometric / arithmetic mean of power) over frames, 50 Hz..16 kHz."""
    mono = x.mean(axis=1) if x.ndim == 2 else x
    freqs = np.fft.rfftfreq(frame, 1 / rate)
    band = (freqs > 50) & (freqs < 16000)
    values = []
    for start in range(0, len(mono) - frame, frame):
        power = np.abs(np.fft.rfft(mono[start:start + frame] * np.hanning(frame)))[band] ** 2 + 1e-18
        values.append(np.exp(np.mean(np.log(power))) / np.mean(power))
    return float(np.mean(values))


def band_db(x: Audio, low: float, high: float, rate: int = 48000) -> float:
    freqs, power = spectrum(x, rate)
    return float(10 * np.log10(power[(freqs >= low) & (freqs < high)].sum() + 1e-20))


def strongest_partials(x: Audio, count: int, rate: int = 48000, low: float = 60.0) -> list[float]:
    """Frequencies of the ``count`` strongest spectral peaks above ``low`` Hz (local maxima)."""
    freqs, power = spectrum(x, rate)
    is_peak = (power[1:-1] > power[:-2]) & (power[1:-1] >= power[2:]) & (freqs[1:-1] > low)
    index = np.flatnonzero(is_peak) + 1
    best = index[np.argsort(power[index])[::-1][:count]]
    return [float(freqs[i]) for i in best]


def pitch_class(freq: float) -> int:
    return int(np.round(69 + 12 * np.log2(freq / 440.0))) % 12


def chroma_in_scale(x: Audio, classes: set[int], rate: int = 48000) -> float:
    """Share of the 80 Hz..5 kHz power that lies within 30 cents of the given pitch classes."""
    freqs, power = spectrum(x, rate)
    band = (freqs > 80) & (freqs < 5000)
    f, p = freqs[band], power[band]
    midi = 69 + 12 * np.log2(f / 440.0)
    near = np.abs(midi - np.round(midi)) < 0.3
    inside = np.isin(np.round(midi).astype(int) % 12, list(classes)) & near
    return float(p[inside].sum() / p.sum())


def onsets(x: Audio, rate: int = 48000, threshold_db: float = -45.0, gap_s: float = 0.1) -> list[float]:
    """Times where the envelope first jumps: the signal rises 20 dB above the last 10 ms."""
    mono = np.abs(x).max(axis=1) if x.ndim == 2 else np.abs(x)
    hop = rate // 2000  # 0.5 ms resolution
    env = mono[: len(mono) // hop * hop].reshape(-1, hop).max(axis=1)
    env_db = 20 * np.log10(env + 1e-12)
    found: list[float] = []
    window = 20  # 10 ms
    for i in range(window, len(env_db)):
        before = env_db[i - window:i].max()
        if env_db[i] > threshold_db and env_db[i] > before + 20:
            t = i * hop / rate
            if not found or t - found[-1] > gap_s:
                # refine to the first sample of the jump inside this hop
                seg = mono[i * hop:(i + 1) * hop]
                first = int(np.argmax(seg > 10 ** (threshold_db / 20)))
                found.append((i * hop + first) / rate)
    return found
