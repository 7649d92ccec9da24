"""The scope and the features of installation.synth.analysis against signals whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from installation.synth.analysis import (
    BANDS,
    FFT_SIZE,
    RANGE_DB,
    SPECTRUM_BINS,
    WAVE_SAMPLES,
    Listener,
    fold_bpm,
    scope_of,
    silence,
)

RATE = 48000


def sine(frequency: float, amplitude: float, seconds: float, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return np.repeat((amplitude * np.sin(2 * np.pi * frequency * t))[:, None], channels, axis=1)


def clicks(times: list[float], seconds: float, amplitude: float = 0.8, impulse: bool = False) -> np.ndarray:
    """Clicks (a 1 ms burst of a decaying 3 kHz tone, or single-sample impulses) at ``times``, on
    a quiet noise floor."""
    out = np.random.default_rng(1).normal(0, 1e-4, int(seconds * RATE))
    click = np.array([amplitude]) if impulse else \
        amplitude * np.sin(2 * np.pi * 3000 * np.arange(48) / RATE) * np.exp(-np.arange(48) / 12)
    for t in times:
        at = round(t * RATE)
        out[at:at + len(click)] += click
    return out[:, None]


def listen(samples: np.ndarray, block: int = 256) -> tuple[Listener, list[float]]:
    """Feed ``samples`` in blocks; the onset times seen, in the order found."""
    listener = Listener(RATE, 256)
    found: list[float] = []
    for at in range(0, len(samples), block):
        listener.feed(samples[at:at + block])
        features = listener.features()
        if features.onsets > len(found):
            found.append(features.last_onset)
    return listener, found


@pytest.mark.parametrize(("frequency", "amplitude"), [(1500.0, 0.5), (375.0, 0.1), (9000.0, 0.9)])
def test_a_sine_lands_in_its_bin_at_its_level(frequency: float, amplitude: float) -> None:
    scope = scope_of(sine(frequency, amplitude, 0.1, channels=2), RATE, heard_at=12.5)
    assert scope.spectrum.shape == (2, SPECTRUM_BINS) and scope.wave.shape == (2, WAVE_SAMPLES)
    assert scope.heard_at == 12.5 and scope.sample_rate == RATE
    k = round(frequency * FFT_SIZE / RATE)  # each chosen frequency is a bin's centre
    assert int(np.argmax(scope.spectrum[0])) == k
    expected = (20 * np.log10(amplitude) + RANGE_DB) / RANGE_DB
    assert scope.spectrum[0, k] == pytest.approx(expected, abs=0.002)
    far = np.abs(np.arange(SPECTRUM_BINS) - k) > 4  # Hann's leakage is 100 dB down past its main lobe
    assert scope.spectrum[0, far].max() < 0.15
    np.testing.assert_allclose(scope.wave[1], sine(frequency, amplitude, 0.1)[-WAVE_SAMPLES:, 0], atol=1e-6)


def test_the_scope_of_silence_and_of_a_short_block() -> None:
    quiet = silence(2, RATE)
    assert not quiet.wave.any() and not quiet.spectrum.any() and quiet.heard_at == 0.0
    assert not scope_of(np.zeros((FFT_SIZE, 2)), RATE).spectrum.any()
    short = scope_of(np.full((10, 1), 2.0), RATE)  # clipped to -1..1, silence before it
    assert short.wave[0, -10:].tolist() == [1.0] * 10 and not short.wave[0, :-10].any()
    with pytest.raises(ValueError, match="frames, channels"):
        scope_of(np.zeros(100), RATE)


@pytest.mark.parametrize(("frequency", "band"), [(100.0, "low"), (800.0, "mid"), (3000.0, "high")])
def test_a_tone_is_in_its_band_at_its_rms(frequency: float, band: str) -> None:
    amplitude = 0.4
    listener, found = listen(sine(frequency, amplitude, 0.5))
    features = listener.features()
    rms = amplitude / np.sqrt(2)
    assert features.level == pytest.approx(rms, rel=0.02)
    levels = dict(zip((name for name, _, _ in BANDS), features.bands, strict=True))
    assert levels[band] == pytest.approx(rms, rel=0.03)
    assert all(level < 0.01 * rms for name, level in levels.items() if name != band), levels
    assert len(found) == 1 and found[0] < 0.03  # the tone's start is its one onset


@pytest.mark.parametrize("impulse", [True, False])
def test_an_impulse_trains_onsets_are_found_at_their_times_and_give_its_tempo(impulse: bool) -> None:
    times = [0.3 + 0.5 * n + 0.0007 * n for n in range(12)]  # 120 BPM, falling anywhere in a hop
    listener, found = listen(clicks(times, 6.5, impulse=impulse), block=300)  # blocks that do not match the hop
    assert len(found) == len(times), found
    # within the hop in which the click came in
    assert np.abs(np.array(found) - np.array(times)).max() <= 256 / RATE
    assert listener.features().bpm == pytest.approx(60 / 0.5007, abs=0.5)


def test_onsets_in_a_steady_tone_are_the_clicks_only() -> None:
    times = [0.4 + 0.75 * n for n in range(6)]  # 80 BPM
    tone = sine(220.0, 0.3, 5.0) + clicks(times, 5.0, amplitude=0.5)
    listener, found = listen(tone)
    assert len(found) == len(times) + 1, found  # and the tone's own start
    assert np.abs(np.array(found[1:]) - np.array(times)).max() <= 256 / RATE
    assert listener.features().bpm == pytest.approx(80.0, abs=0.5)


def test_silence_is_silent() -> None:
    listener, found = listen(np.zeros((RATE * 2, 2)))
    features = listener.features()
    assert found == [] and features.level == 0.0 and features.bands == (0.0, 0.0, 0.0)
    assert features.bpm == 0.0 and features.last_onset == -1.0 and listener.samples == RATE * 2


def test_tempi_fold_into_one_octave() -> None:
    assert fold_bpm(np.array([0.5, 0.25, 1.0, 0.5])) == pytest.approx(120.0)
    assert fold_bpm(np.array([60 / 170])) == pytest.approx(85.0)
    # a stray interval moves nothing; intervals either side of the range's edge (75 / 150) agree
    assert fold_bpm(np.array([0.5, 0.5, 0.37, 0.5])) == pytest.approx(120.0)
    assert fold_bpm(np.array([60 / 75.5, 60 / 74.5, 60 / 75.5, 60 / 74.5])) in (pytest.approx(75.0, abs=0.01),
                                                                             pytest.approx(150.0, abs=0.02))
    with pytest.raises(ValueError, match="hop"):
        Listener(RATE, 0)
