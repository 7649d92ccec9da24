"""Change detection on live node data: drift and noise stay quiet, real spikes play once each."""

from __future__ import annotations

import numpy as np
import pytest

from installation.core.events import Event
from installation.synth.detect import ChangeDetector
from installation.synth.offline import render_stream
from tests.core import sound_measures as m
from tests.core.synth_frames import STEP_S, frame

pytestmark = pytest.mark.core
DT = 1 / 60


def drifting_signal(seconds: float, spikes_at: list[float], seed: int = 3) -> np.ndarray:
    """A sensor trace: slow drift of a few mV, white noise, and fungal spikes (0.3 s bumps)."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * 60)) * DT
    drift = 2.0 * np.sin(2 * np.pi * t / 300.0) + 0.02 * t
    noise = rng.normal(0, 0.02, len(t))
    bumps = sum(0.5 * np.exp(-((t - at) / 0.15) ** 2) for at in spikes_at)
    return (drift + noise + bumps).astype(np.float32)


def detect(trace: np.ndarray, threshold: float = 5.0, hysteresis: float = 0.5) -> list[float]:
    detector = ChangeDetector()
    times = []
    for k, value in enumerate(trace):
        fired = detector.update(("a",), np.array([value], np.float32), np.array([True]), DT, threshold,
                                hysteresis, 4.0)
        times += [k * DT for _ in fired]
    return times


def test_drift_and_noise_alone_play_nothing() -> None:
    assert detect(drifting_signal(120.0, [])) == []


def test_each_spike_plays_once_near_its_time() -> None:
    spikes = [10.0, 25.0, 31.0, 47.5, 80.0, 101.0]
    found = detect(drifting_signal(120.0, spikes))
    assert len(found) == len(spikes), found
    assert all(abs(f - s) < 0.25 for f, s in zip(found, spikes, strict=True))


def test_hysteresis_turns_a_long_excursion_into_one_note() -> None:
    rng = np.random.default_rng(5)
    trace = rng.normal(0, 0.02, 1200).astype(np.float32)
    trace[400:700] += 0.6  # a 5-second plateau, noisy on top
    assert len(detect(trace)) == 1


def test_hysteresis_keeps_a_signal_hovering_at_the_threshold_from_stuttering() -> None:
    trace = np.zeros(400, np.float32)
    trace[:300] = np.where(np.arange(300) % 2, 0.02, -0.02)  # learn a noise scale of 0.02 mV
    trace[300:360] = 0.1 + np.where(np.arange(60) % 2, 0.02, -0.02)  # hovers around 5 sigma
    assert len(detect(trace, hysteresis=0.5)) == 1
    assert len(detect(trace, hysteresis=0.95)) >= 3


def test_only_live_nodes_are_detected() -> None:
    detector = ChangeDetector()
    ids = ("live", "sim")
    fired = []
    for k in range(600):
        jump = 1.0 if k == 300 else 0.0
        values = np.array([jump, jump], np.float32)
        fired += detector.update(ids, values, np.array([True, False]), DT, 5.0, 0.5, 4.0)
    assert [f.index for f in fired] == [0]


def test_live_spikes_become_notes_in_the_render() -> None:
    trace = drifting_signal(7.0, [3.5, 5.5])  # after the 2 s warm-up
    frames = [frame(k, nodes=1, live=True, potential=np.array([trace[k]])) for k in range(len(trace))]
    params = {"synth.drone_level": -60.0, "synth.texture_level": -60.0, "synth.reverb_mix": 0.0,
              "synth.voice_decay": 0.1, "synth.voice_timbre": "pluck"}
    out = render_stream(frames, params, STEP_S, 7.0)
    found = m.onsets(out)
    assert len(found) == 2, found
    assert abs(found[0] - 3.5) < 0.3 and abs(found[1] - 5.5) < 0.3


def test_a_kernel_spike_for_a_live_node_is_not_played_twice() -> None:
    from installation.core.events import EventKind

    events = (Event(EventKind.SPIKE, t=0.5, node="n0", strength=2.0),)
    frames = [frame(k, nodes=2, live=True, events=events if k == 30 else ()) for k in range(120)]
    params = {"synth.drone_level": -60.0, "synth.texture_level": -60.0, "synth.reverb_mix": 0.0}
    out = render_stream(frames, params, STEP_S, 2.0)
    assert m.onsets(out) == []
