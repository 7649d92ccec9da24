"""Listening to sound: a scope (the waveform and spectrum that ISF hosts feed to ``audio`` and
``audioFFT`` inputs) and features (level, bands, onsets, a tempo) of sample blocks. Pure numpy.

The spectrum's mapping, as ISF hosts feed ``audioFFT`` (values in 0..1):

- bin ``k`` of ``SPECTRUM_BINS`` is ``k * sample_rate / FFT_SIZE`` Hz (linear in frequency, bin 0
  is DC), from a Hann-windowed FFT of the latest ``FFT_SIZE`` samples of each channel;
- its amplitude is scaled so that a sine of amplitude ``A`` centred on a bin reads ``A`` there,
  then taken in dB (``20 log10``) and mapped linearly from ``-RANGE_DB`` dBFS (0) to 0 dBFS (1),
  clipped: a full-scale sine is 1, one at -36 dBFS is 0.5, anything below -72 dBFS is 0.

Level and band levels are RMS amplitudes (a sine of amplitude ``A`` reads ``A / sqrt(2)``) of the
mono mix (the mean of the channels) over the latest ``FFT_SIZE`` samples, from their Hann-windowed
spectrum (Parseval): the level sums every bin, a band the bins whose centre lies between its
edges (``BANDS``).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

WAVE_SAMPLES = 512  # the waveform: the latest this many samples per channel
FFT_SIZE = 1024  # 21 ms at 48 kHz: the window of the spectrum, the level and the bands
SPECTRUM_BINS = FFT_SIZE // 2  # 0 .. just under Nyquist (the Nyquist bin is left out)
RANGE_DB = 72.0
BANDS = (("low", 20.0, 250.0), ("mid", 250.0, 2000.0), ("high", 2000.0, 20000.0))  # name, from, to (Hz)
# onsets: spectral flux of log-compressed magnitudes over a threshold that follows the recent flux
COMPRESSION = 100.0  # log(1 + C |X|): quiet partials count, loud ones do not swamp the flux
THRESHOLD_S = 0.5  # the adaptive threshold looks back this far
THRESHOLD_FACTOR = 2.0  # times the median flux of that time ...
THRESHOLD_FLOOR = 0.02  # ... plus this, so that silence and steady hiss find no onset
REFRACTORY_S = 0.08  # one onset per attack (the attack stays in the window for FFT_SIZE samples)
# the tempo: intervals between recent onsets, folded into one octave of tempi
BEAT_WINDOW_S = 8.0
BPM_RANGE = (75.0, 150.0)  # one octave: a tempo and its double read the same
BPM_AGREE = 0.03  # intervals within this many octaves of the likeliest tempo are averaged
BEAT_MIN_ONSETS = 4

_WINDOW = np.hanning(FFT_SIZE)
_AMPLITUDE = 2.0 / _WINDOW.sum()  # a sine of amplitude A centred on a bin reads A
_POWER = 2.0 / (FFT_SIZE * float(np.sum(_WINDOW ** 2)))  # one-sided bin power -> mean square


@dataclass(frozen=True)
class Scope:
    """The latest waveform and spectrum of some sound, and when its last sample was heard."""

    wave: NDArray[np.float32]  # (channels, WAVE_SAMPLES), -1..1, oldest sample first
    spectrum: NDArray[np.float32]  # (channels, SPECTRUM_BINS), 0..1 (the module's mapping)
    sample_rate: int
    heard_at: float = 0.0  # time.monotonic() when its last sample reached the output (or came in); 0: never


@dataclass(frozen=True)
class Features:
    """What a :class:`Listener` heard in its latest window."""

    level: float  # RMS amplitude of the mono mix
    bands: tuple[float, ...]  # RMS amplitude in each of BANDS, in that order
    onsets: int  # onsets found so far
    last_onset: float  # seconds on the listener's clock (samples fed / rate) of the latest; -1: none yet
    bpm: float  # the tempo of the recent onsets, in BPM_RANGE; 0: too few to tell


def bin_frequency(k: int | NDArray[np.int64], sample_rate: int) -> float | NDArray[np.float64]:
    """The centre frequency in Hz of spectrum bin ``k``."""
    return k * sample_rate / FFT_SIZE


def _amplitudes(window: NDArray[np.float64]) -> NDArray[np.float64]:
    """Bin amplitudes of ``window`` ((..., FFT_SIZE) samples), scaled by ``_AMPLITUDE``."""
    return np.abs(np.fft.rfft(window * _WINDOW, axis=-1)) * _AMPLITUDE


def to_levels(amplitudes: NDArray[np.float64]) -> NDArray[np.float32]:
    """Amplitudes to the 0..1 dB scale of ``audioFFT`` (see the module's docstring)."""
    decibels = 20.0 * np.log10(np.maximum(amplitudes, 1e-12))
    return np.clip((decibels + RANGE_DB) / RANGE_DB, 0.0, 1.0).astype(np.float32)


def _latest(samples: NDArray[np.floating], count: int) -> NDArray[np.float64]:
    """The latest ``count`` frames of ``samples`` ((frames, channels)) as (channels, count), zeros before the first."""
    out = np.zeros((samples.shape[1], count))
    have = min(count, samples.shape[0])
    if have:
        out[:, count - have:] = samples[-have:].T
    return out


def scope_of(samples: NDArray[np.floating], sample_rate: int, heard_at: float = 0.0) -> Scope:
    """The scope of the latest samples in ``samples`` ((frames, channels); fewer than FFT_SIZE frames
    count as preceded by silence)."""
    if samples.ndim != 2:
        raise ValueError(f"samples must be (frames, channels), not of shape {samples.shape}")
    window = _latest(samples, FFT_SIZE)
    wave = np.clip(window[:, -WAVE_SAMPLES:], -1.0, 1.0).astype(np.float32)
    return Scope(wave, to_levels(_amplitudes(window)[:, :SPECTRUM_BINS]), sample_rate, heard_at)


def silence(channels: int, sample_rate: int) -> Scope:
    """The scope of silence (what is seen before anything was heard)."""
    return Scope(np.zeros((channels, WAVE_SAMPLES), np.float32), np.zeros((channels, SPECTRUM_BINS), np.float32),
                 sample_rate)


def band_bins(sample_rate: int) -> list[slice]:
    """For each of BANDS, the rfft bins (of FFT_SIZE) that have their centre in it."""
    freqs = np.fft.rfftfreq(FFT_SIZE, 1.0 / sample_rate)
    return [slice(int(np.searchsorted(freqs, low)), int(np.searchsorted(freqs, high))) for _, low, high in BANDS]


def fold_bpm(intervals_s: NDArray[np.float64]) -> float:
    """The likeliest tempo of some beat intervals, doubled or halved into BPM_RANGE.

    Each interval is a point on a circle (the octave of tempi: its log2, modulo 1); the likeliest
    is the point nearest all the others, averaged with those that agree with it. So an interval
    and its double agree, a stray one does not move the answer, and two intervals on either
    side of the range's edge are still neighbours."""
    phases = np.mod(np.log2(60.0 / (intervals_s * BPM_RANGE[0])), 1.0)
    apart = np.abs(phases[:, None] - phases[None, :])
    apart = np.minimum(apart, 1.0 - apart)
    best = phases[int(np.argmin(apart.sum(axis=1)))]
    offsets = np.mod(phases - best + 0.5, 1.0) - 0.5  # -0.5..0.5 octaves from the likeliest
    phase = np.mod(best + offsets[np.abs(offsets) <= BPM_AGREE].mean(), 1.0)
    return float(BPM_RANGE[0] * 2.0 ** phase)


class Listener:
    """Features of a stream of samples, fed in blocks of any length and analysed every ``hop``
    samples: level and bands of the latest FFT_SIZE samples, onsets (a rise of the spectral flux
    over a threshold that follows the recent flux) and a tempo (the median onset interval)."""

    def __init__(self, sample_rate: int, hop: int = 256) -> None:
        if not 0 < hop <= FFT_SIZE:
            raise ValueError(f"hop must be 1..{FFT_SIZE} samples")
        self.sample_rate, self.hop = sample_rate, hop
        self.samples = 0  # fed so far (the listener's clock)
        self._window = np.zeros(FFT_SIZE)
        self._fill = 0  # samples of the current hop already in the window
        self._bands = band_bins(sample_rate)
        self._previous = np.zeros(FFT_SIZE // 2 + 1)
        self._flux = np.zeros(max(1, round(THRESHOLD_S * sample_rate / hop)))  # a ring of the recent flux
        self._hops = 0
        self._onset_times: deque[float] = deque()
        self._features = Features(0.0, (0.0,) * len(BANDS), 0, -1.0, 0.0)

    def features(self) -> Features:
        return self._features

    def feed(self, samples: NDArray[np.floating]) -> None:
        """Analyse ``samples`` ((frames, channels) or (frames,)); the channels are mixed to mono."""
        mono = samples if samples.ndim == 1 else samples[:, 0] if samples.shape[1] == 1 else samples.mean(axis=1)
        at = 0
        while at < len(mono):
            count = min(self.hop - self._fill, len(mono) - at)
            self._window[:-count] = self._window[count:]
            self._window[-count:] = mono[at:at + count]
            self._fill += count
            self.samples += count
            at += count
            if self._fill == self.hop:
                self._fill = 0
                self._analyse()

    def _analyse(self) -> None:
        amplitudes = _amplitudes(self._window)
        power = np.square(amplitudes) * (_POWER / _AMPLITUDE ** 2)
        compressed = np.log1p(COMPRESSION * amplitudes)
        rise = compressed - self._previous
        flux = float(rise[rise > 0.0].sum()) / len(rise)
        self._previous = compressed
        recent = self._flux[:min(self._hops, len(self._flux))]
        middle = len(recent) // 2
        median = float(np.partition(recent, middle)[middle]) if len(recent) else 0.0
        threshold = THRESHOLD_FACTOR * median + THRESHOLD_FLOOR
        self._flux[self._hops % len(self._flux)] = flux
        self._hops += 1
        now = self.samples / self.sample_rate
        last = self._features.last_onset
        onsets = self._features.onsets
        if flux > threshold and (last < 0 or now - last >= REFRACTORY_S):
            # the attack came in during this hop: its middle is the best guess at its time
            last = now - 0.5 * self.hop / self.sample_rate
            onsets += 1
            self._onset_times.append(last)
        while self._onset_times and self._onset_times[0] < now - BEAT_WINDOW_S:
            self._onset_times.popleft()
        self._features = Features(math.sqrt(power.sum()), tuple(math.sqrt(power[bins].sum()) for bins in self._bands),
                                  onsets, last, self._bpm())

    def _bpm(self) -> float:
        if len(self._onset_times) < BEAT_MIN_ONSETS:
            return 0.0
        return fold_bpm(np.diff(np.array(self._onset_times)))
