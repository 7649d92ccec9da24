"""The acts' sound measure (installation.synth.acts) on signals whose answers are known, the noise
bed (ShapedNoise) on its measured spectrum, and the floor of issue 19 on short excerpts of every
act: each preset's synth values playing a world like its act's, with its act's cues."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from installation.core.events import Event, EventKind
from installation.core.presets import load_preset
from installation.core.shows import load_show
from installation.synth.acts import distance, measure, middle, onset_rate, pairwise
from installation.synth.effects import ShapedNoise
from installation.synth.offline import render_stream
from tests.core.synth_frames import STEP_S, frame

ROOT = Path(__file__).resolve().parents[2]
RATE = 48000


def test_distance_of_a_signal_and_itself_times_e_is_one_neper() -> None:
    noise = np.random.default_rng(3).standard_normal(RATE * 2) * 0.05
    a, b = measure(noise, RATE, 0.0, 2.0), measure(noise * math.e, RATE, 0.0, 2.0)
    assert distance(a, a) == 0.0
    assert distance(a, b) == pytest.approx(1.0, abs=1e-6)
    assert distance(b, a) == distance(a, b)


def test_loudness_centroid_of_a_sine() -> None:
    t = np.arange(RATE * 2) / RATE
    sine = np.sin(2 * np.pi * 1000.0 * t)
    sound = measure(np.stack([sine, sine], axis=1), RATE, 0.0, 2.0)
    assert sound.rms_db == pytest.approx(-3.01, abs=0.02)
    # BS.1770: a full-scale 1 kHz sine reads -3.01 LKFS
    assert sound.k_weighted_db == pytest.approx(-3.01, abs=0.1)
    assert sound.centroid_hz == pytest.approx(1000.0, rel=0.01)
    assert measure(sine * 0.5, RATE, 0.0, 2.0).rms_db == pytest.approx(-9.03, abs=0.02)


def test_onsets_count_clicks() -> None:
    signal = np.random.default_rng(1).standard_normal(RATE * 4) * 1e-4
    for k in range(20):  # five clicks a second, each a decaying burst
        at = k * RATE // 5
        signal[at:at + 400] += np.random.default_rng(k).standard_normal(400) * np.exp(-np.arange(400) / 80)
    assert onset_rate(signal, RATE) == pytest.approx(5.0, abs=0.3)


def test_shaped_noise_level_band_and_steadiness() -> None:
    noise = ShapedNoise(RATE, 2, 256, np.random.default_rng(5))
    noise.set_band(2000.0, 6000.0)
    out = np.zeros((256 * 600, 2), np.float32)
    for k in range(600):
        noise.render(out[k * 256:(k + 1) * 256], 0.1)
    x = out[512:, 0].astype(np.float64)
    assert np.sqrt(np.mean(x ** 2)) == pytest.approx(0.1, rel=0.03)
    power = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)

    def band_db(low: float, high: float) -> float:
        return float(10 * np.log10(power[(freqs > low) & (freqs < high)].mean()))

    inside = band_db(2500, 5000)
    assert inside - band_db(100, 500) > 40
    assert inside - band_db(12000, 20000) > 25
    # the same power at every sample of the block (the windows' squares sum to one)
    phase = (x[:len(x) // 256 * 256].reshape(-1, 4, 64) ** 2).mean(axis=(0, 2))
    assert phase.max() / phase.min() < 1.05


# Each act's world over its middle, as the shows play it (means over the middle half of each act
# in a recording of both shows through the engine): density, toxin, flora, waste, flow
WORLDS = {
    "kai-festival": ((0.08, 0.0, 0.01, 0.01, 0.26), (0.08, 0.1, 0.06, 0.0, 0.27), (0.08, 0.02, 0.12, 0.0, 0.34),
                     (0.12, 0.0, 0.16, 0.01, 0.26), (0.11, 0.0, 0.16, 0.0, 0.31)),
    "elara-mural": ((0.07, 0.0, 0.0, 0.02, 0.26), (0.28, 0.0, 0.02, 0.0, 0.26), (0.21, 0.0, 0.03, 0.0, 0.32),
                    (0.34, 0.0, 0.05, 0.0, 0.26), (0.33, 0.0, 0.08, 0.0, 0.29)),
}
EXCERPT_S = 6.0


def excerpt(show_name: str, index: int) -> np.ndarray:
    """``EXCERPT_S`` of act ``index``: its preset's synth values, a world like its act's middle, the
    cues of its middle half at the same relative times, and a spike every 0.12 s from the nodes in
    turn (the shows play 3 to 11 a second)."""
    show = load_show(ROOT / "presets" / "shows" / f"{show_name}.toml")
    act = show.acts[index]
    preset = load_preset(ROOT / "presets" / f"{act.preset}.toml")
    params = {name: value for name, value in preset.params.items() if name.startswith("synth.")}
    density, toxin, flora, waste, flow = WORLDS[show_name][index]
    steps = round(EXCERPT_S / STEP_S)
    events: dict[int, list[Event]] = {}
    begin, end = middle(0.0, act.duration_s)
    for cue in act.cues:  # the cues the measure hears in the act's middle, at the same relative times
        if begin <= cue.at_s < end:
            step = round((cue.at_s - begin) / (end - begin) * (EXCERPT_S - 1.5) / STEP_S)
            events.setdefault(step, []).append(cue.to_event((step + 1) * STEP_S))
    for step in range(0, steps, 7):
        events.setdefault(step, []).append(Event(EventKind.SPIKE, (step + 1) * STEP_S, 1.0, node=f"n{step % 6}"))
    frames = [frame(k, density=density, toxin=toxin, flora=flora, waste=waste, flow=flow,
                    events=tuple(events.get(k, ()))) for k in range(steps)]
    return render_stream(frames, params, STEP_S, EXCERPT_S, sample_rate=RATE)  # type: ignore[arg-type]


@pytest.mark.parametrize("show_name", sorted(WORLDS))
def test_every_pair_of_acts_sounds_apart(show_name: str) -> None:
    sounds = [measure(excerpt(show_name, i), RATE, 1.5, EXCERPT_S) for i in range(5)]
    close = {pair: round(value, 2) for pair, value in pairwise(sounds).items() if value < 0.8}
    assert not close, f"acts too alike (pair: nepers): {close}"
