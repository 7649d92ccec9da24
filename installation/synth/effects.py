"""Noise, filters, reverb and the master limiter, each vectorised over whole blocks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

TAPS = 31


def lowpass_kernel(cutoff_hz: float, sample_rate: int, taps: int = TAPS) -> NDArray[np.float64]:
    """A Blackman-windowed sinc lowpass with unit DC gain."""
    fc = min(0.49, max(20.0, cutoff_hz) / sample_rate)
    n = np.arange(taps) - (taps - 1) / 2
    kernel = 2 * fc * np.sinc(2 * fc * n) * np.blackman(taps)
    return kernel / kernel.sum()  # type: ignore[no-any-return]


class FirFilter:
    """A multichannel FIR filter that carries its history across blocks."""

    def __init__(self, channels: int, block: int, taps: int = TAPS) -> None:
        self.kernel = np.zeros(taps)
        self.kernel[(taps - 1) // 2] = 1.0
        self._buffer = np.zeros((block + taps - 1, channels))
        self._taps = taps

    def process(self, block: NDArray[np.float32]) -> None:
        """Filter ``block`` (frames, channels) in place."""
        history = self._taps - 1
        self._buffer[history:] = block
        frames = len(block)
        for channel in range(block.shape[1]):
            block[:, channel] = np.convolve(self._buffer[:, channel], self.kernel, mode="valid")[:frames]
        self._buffer[:history] = self._buffer[frames:frames + history]


class Reverb:
    """An 8-line feedback delay network; every delay is longer than a block, so a whole block of
    each line's output is already written before it is read, and the feedback is a block-wide
    matrix product. Damping is a 3-tap average inside the loop."""

    LINES = 8
    BASE_MS = (29.7, 37.1, 41.1, 43.7, 47.9, 53.3, 59.9, 67.1)

    def __init__(self, sample_rate: int, channels: int, block: int, outputs: Sequence[int] | None = None) -> None:
        """``outputs``: the channels the lines feed, in turn (default: all)."""
        self.sample_rate = sample_rate
        self.block = block
        self.channels = channels
        feeds = list(range(channels)) if outputs is None or not len(outputs) else list(outputs)
        shortest = block + 4
        self.max_scale = 3.0
        self.size = int(max(ms for ms in self.BASE_MS) * 1e-3 * sample_rate * self.max_scale) + 2 * block + 8
        self._min_delay = shortest
        self._lines = np.zeros((self.LINES, self.size))
        self._write = 0
        hadamard = np.array([[1.0]])
        while hadamard.shape[0] < self.LINES:
            hadamard = np.block([[hadamard, hadamard], [hadamard, -hadamard]])
        self._mix = hadamard / np.sqrt(self.LINES)
        self._delays = np.zeros(self.LINES, np.int64)
        self._feedback = np.zeros(self.LINES)
        signs = np.array([1, -1, 1, -1, -1, 1, -1, 1], np.float64)
        self._in_signs = np.array([1, 1, -1, 1, -1, -1, 1, -1], np.float64)
        self._taps = np.zeros((self.LINES, channels))
        for line in range(self.LINES):
            self._taps[line, feeds[line % len(feeds)]] = signs[line]
        self._taps /= np.sqrt(self.LINES / len(feeds))
        self._n = np.arange(block)
        self._scale = 0.0
        self.configure(2.0, 1.0)

    def configure(self, rt60_s: float, scale: float) -> None:
        """Set the decay time and the room scale (delay lengths, 0.5..3).

        Delays move only when the scale changes by more than 5 %: every move of a read
        position is a small jump in the tail, so a slowly growing network must not cause one
        per frame."""
        scale = min(self.max_scale, max(0.5, scale))
        if abs(scale - self._scale) > 0.05 * self._scale:
            self._scale = scale
            delays = np.array(self.BASE_MS) * 1e-3 * self.sample_rate * scale
            self._delays = np.maximum(delays.astype(np.int64), self._min_delay)
        self._feedback = np.power(10.0, -3.0 * self._delays / (self.sample_rate * max(0.05, rt60_s)))

    def process(self, dry: NDArray[np.float32], wet_out: NDArray[np.float32]) -> None:
        """Read ``dry`` (frames, channels), write the wet signal into ``wet_out``."""
        frames = len(dry)
        read_index = (self._write - self._delays[:, None] + self._n[None, :frames]) % self.size
        prev = (read_index - 1) % self.size
        after = (read_index + 1) % self.size
        rows = np.arange(self.LINES)[:, None]
        taps = (0.25 * self._lines[rows, prev] + 0.5 * self._lines[rows, read_index]
                + 0.25 * self._lines[rows, after])
        wet_out[:] = taps.T @ self._taps
        feed = self._mix @ (taps * self._feedback[:, None])
        feed += self._in_signs[:, None] * (dry.mean(axis=1)[None, :] * 0.35)
        write_index = (self._write + self._n[:frames]) % self.size
        self._lines[:, write_index] = feed
        self._write = (self._write + frames) % self.size


class Limiter:
    """A lookahead peak limiter: output never exceeds the ceiling.

    The gain each sample needs (dB) is smoothed by an instant-attack, linear-in-dB release
    (closed form: a running minimum), then a lookahead minimum over ``W`` samples and a ``W``-sample
    moving average, which is never above the need at any sample; the signal is delayed by ``W``.
    A hard clip at the ceiling after it guards against rounding.
    """

    def __init__(self, sample_rate: int, channels: int, block: int, lookahead_ms: float = 1.5,
                 release_ms: float = 250.0) -> None:
        self.window = max(2, int(sample_rate * lookahead_ms / 1000))
        self.release_db_per_sample = 40.0 / (sample_rate * release_ms / 1000)  # 40 dB per release time
        w = self.window
        self._signal = np.zeros((block + w, channels), np.float32)  # delayed signal
        self._need = np.zeros(block + 2 * w)  # released gain (dB), with history for both windows
        self._last_gain_db = 0.0
        self._k = np.arange(block, dtype=np.float64)
        self.reduction_db = 0.0

    def process(self, block: NDArray[np.float32], ceiling_db: float) -> None:
        frames, w = len(block), self.window
        ceiling = 10.0 ** (ceiling_db / 20.0)
        self._signal[w:w + frames] = block
        peak = np.max(np.abs(block), axis=1)
        need = np.minimum(0.0, 20.0 * np.log10(ceiling / np.maximum(peak, 1e-12)))
        # release: g[n] = min(need[n], g[n-1] + c), solved with a running minimum
        c = self.release_db_per_sample
        k = self._k[:frames]
        released = c * k + np.minimum.accumulate(np.minimum(need - c * k, self._last_gain_db + c))
        released = np.minimum(released, 0.0)
        self._last_gain_db = float(released[-1])
        history = 2 * w
        self._need[history:history + frames] = released
        view = np.lib.stride_tricks.sliding_window_view(self._need[: history + frames], w)
        # lookahead minimum of samples n..n+w-1 (in delayed time), then a w-sample average
        minimum = view.min(axis=1)
        # smooth[i + 1] is at or below the need of input sample i - w, which is output sample i
        smooth = np.convolve(minimum, np.full(w, 1.0 / w), mode="valid")[1:frames + 1]
        gain = 10.0 ** (smooth / 20.0)
        block[:] = self._signal[:frames] * gain[:, None].astype(np.float32)
        np.clip(block, -ceiling, ceiling, out=block)
        self.reduction_db = float(-smooth.min())
        self._signal[:w] = self._signal[frames:frames + w]
        self._need[:history] = self._need[frames:frames + history]


class ShapedNoise:
    """Steady noise of any spectral colour, a block at a time.

    Each block, white noise two blocks long is coloured in the frequency domain and overlap-added
    under a square-root Hann window: the windows' squares sum to one, so the noise's power is
    the same at every sample (no block-rate flutter), at one small FFT per block."""

    def __init__(self, sample_rate: int, channels: int, block: int, rng: np.random.Generator) -> None:
        self.sample_rate = sample_rate
        self.block = block
        self.channels = channels
        self.rng = rng
        size = 2 * block
        self._window = np.sqrt(0.5 - 0.5 * np.cos(2 * np.pi * np.arange(size) / size))[:, None]
        self._freqs = np.fft.rfftfreq(size, 1.0 / sample_rate)
        self._shape = np.zeros(len(self._freqs))
        self._tail = np.zeros((block, channels))
        self.band = (0.0, 0.0)

    def set_band(self, low_hz: float, high_hz: float) -> None:
        """Colour the noise: 24 dB/octave slopes below ``low_hz`` and above ``high_hz``; 1.0 RMS."""
        if (low_hz, high_hz) == self.band:
            return
        self.band = (low_hz, high_hz)
        f = np.maximum(self._freqs, 1.0)
        shape = 1.0 / np.sqrt((1.0 + (low_hz / f) ** 8) * (1.0 + (f / max(high_hz, low_hz)) ** 8))
        shape[0] = 0.0
        # irfft of bins of unit complex variance: mean square 2 * (2 * sum - ends) / size**2
        size = 2 * self.block
        power = 2.0 * (2.0 * np.sum(shape ** 2) - shape[0] ** 2 - shape[-1] ** 2) / size ** 2
        self._shape = shape / np.sqrt(max(power, 1e-30))

    def render(self, out: NDArray[np.float32], level: float) -> None:
        """Add the next block of noise at RMS ``level`` into ``out`` (block, channels)."""
        shape = (len(self._freqs), self.channels)
        spectrum = (self.rng.standard_normal(shape) + 1j * self.rng.standard_normal(shape)) * self._shape[:, None]
        frame = np.fft.irfft(spectrum, n=2 * self.block, axis=0) * self._window
        out += ((frame[:self.block] + self._tail) * level).astype(np.float32)
        self._tail = frame[self.block:]
