"""The synth, offline: measured on rendered samples (levels, spectra, onsets, scale)."""

from __future__ import annotations

import numpy as np
import pytest

from installation.core.events import Event, EventKind
from installation.synth.offline import render_stream
from installation.synth.params import param_specs
from installation.synth.scales import Scale
from installation.synth.synth import Synth
from tests.core import sound_measures as m
from tests.core.synth_frames import STEP_S, frame, frames

pytestmark = pytest.mark.core
RATE = 48000
QUIET = {"synth.drone_level": -60.0, "synth.texture_level": -60.0, "synth.reverb_mix": 0.0}


def spikes(every_steps: int, seconds: float, nodes: int = 6) -> dict[int, tuple[Event, ...]]:
    return {k: (Event(EventKind.SPIKE, t=(k + 0.5) * STEP_S, strength=1.0, node=f"n{(k // every_steps) % nodes}"),)
            for k in range(0, round(seconds * 60), every_steps)}


def render(seconds: float, params: dict[str, object] | None = None, events_at=None, **state: object) -> np.ndarray:
    return render_stream(frames(seconds, events_at, **state), params or {}, STEP_S, seconds)


def test_default_render_is_audible_finite_and_below_the_ceiling() -> None:
    out = render(4.0, events_at=spikes(10, 4.0))
    assert out.shape == (4 * RATE, 2) and out.dtype == np.float32
    assert np.isfinite(out).all()
    assert m.rms_db(out) > -40.0  # not silent
    assert m.peak_db(out) <= -0.3
    # stereo: the channels differ (voices are panned)
    assert np.abs(out[:, 0] - out[:, 1]).max() > 1e-3


def test_render_is_deterministic_for_a_seed() -> None:
    a = render(1.5, events_at=spikes(7, 1.5), waste=0.6)
    b = render(1.5, events_at=spikes(7, 1.5), waste=0.6)
    assert np.array_equal(a, b)


@pytest.mark.parametrize(("scale", "root"), [("minor", "D"), ("lydian", "F#"), ("pentatonic_major", "A")])
def test_strongest_partials_fall_in_the_scale(scale: str, root: str) -> None:
    params = {**QUIET, "synth.scale": scale, "synth.root": root, "synth.voice_timbre": "pluck",
              "synth.density": 1.0, "synth.voice_decay": 0.8}
    out = render(3.0, params, events_at=spikes(6, 3.0, nodes=12), nodes=12)
    classes = Scale(scale, root, 4).pitch_classes()
    partials = m.strongest_partials(out, 8)
    assert len(partials) == 8
    assert {m.pitch_class(f) for f in partials} <= classes, (partials, classes)


def test_spikes_sound_at_their_times() -> None:
    params = {**QUIET, "synth.voice_decay": 0.05, "synth.voice_timbre": "pluck", "synth.density": 1.0}
    # spikes at odd moments inside their steps, 0.4 s apart
    times = [0.3 + 0.4 * i + 0.0037 * i for i in range(6)]
    events = {}
    for i, t in enumerate(times):
        step = int(t / STEP_S)
        events[step] = (Event(EventKind.SPIKE, t=t, strength=1.5, node=f"n{i % 6}"),)
    out = render(3.0, params, events_at=events)
    found = m.onsets(out)
    assert len(found) == len(times), found
    # the limiter's lookahead delays everything by its window (1.5 ms)
    errors = [abs(f - t) for f, t in zip(found, times, strict=True)]
    assert max(errors) < 0.003, errors


def _compare(event: Event, seconds: float = 4.0, at_step: int = 30, **state: object) -> tuple[np.ndarray, np.ndarray]:
    base = render(seconds, {"synth.density": 0.0}, **state)
    with_event = render(seconds, {"synth.density": 0.0}, events_at={at_step: (event,)}, **state)
    return base, with_event


def test_surge_raises_loudness() -> None:
    base, surged = _compare(Event(EventKind.SURGE, t=0.5, strength=2.0))
    window = slice(int(2.0 * RATE), int(3.5 * RATE))
    assert m.rms_db(surged[window]) > m.rms_db(base[window]) + 4.0


def test_toxin_raises_spectral_flatness_and_closes_the_filter() -> None:
    clean = render(3.0, toxin=0.0)[RATE:]
    toxic = render(3.0, toxin=0.9)[RATE:]
    assert m.flatness(toxic) > 2.0 * m.flatness(clean)
    # the drone's upper partials close: less of the tonal energy above 250 Hz
    clean_tonal = render(3.0, {"synth.texture_level": -60.0}, toxin=0.0)[RATE:]
    toxic_tonal = render(3.0, {"synth.texture_level": -60.0}, toxin=0.9)[RATE:]
    tilt = m.band_db(toxic_tonal, 250, 2000) - m.band_db(toxic_tonal, 40, 250)
    clean_tilt = m.band_db(clean_tonal, 250, 2000) - m.band_db(clean_tonal, 40, 250)
    assert tilt < clean_tilt - 6.0


def test_toxin_cluster_raises_flatness() -> None:
    base, cluster = _compare(Event(EventKind.TOXIN_CLUSTER, t=0.5, strength=2.0))
    window = slice(int(2.0 * RATE), int(4.0 * RATE))
    assert m.flatness(cluster[window]) > 1.5 * m.flatness(base[window])


@pytest.mark.parametrize("kind", [EventKind.PURIFICATION, EventKind.BLOOM])
def test_purification_and_bloom_resolve_towards_the_scale(kind: EventKind) -> None:
    base, resolved = _compare(Event(kind, t=0.5, strength=2.0), seconds=5.0, toxin=0.7)
    window = slice(int(2.5 * RATE), int(5.0 * RATE))
    classes = Scale("pentatonic_major", "C", 4).pitch_classes()
    assert m.chroma_in_scale(resolved[window], classes) > m.chroma_in_scale(base[window], classes) + 0.05


def test_disruption_adds_a_buzzing_sweep() -> None:
    base, buzzed = _compare(Event(EventKind.DISRUPTION, t=0.5, strength=1.5, x=0.1))
    early, late = slice(int(0.9 * RATE), int(1.4 * RATE)), slice(int(2.2 * RATE), int(2.7 * RATE))
    assert m.rms_db(buzzed[early]) > m.rms_db(base[early]) + 6.0
    # it sweeps: the spectral centroid moves up
    def centroid(x: np.ndarray) -> float:
        f, p = m.spectrum(x)
        return float((f * p).sum() / p.sum())
    assert centroid(buzzed[late]) > centroid(buzzed[early]) * 1.2
    # and it moves across the speakers from the event's side
    left_early = m.rms_db(buzzed[early, 0]) - m.rms_db(buzzed[early, 1])
    left_late = m.rms_db(buzzed[late, 0]) - m.rms_db(buzzed[late, 1])
    assert left_early > left_late + 3.0


def test_shield_hums_on_the_root() -> None:
    base, shielded = _compare(Event(EventKind.SHIELD, t=0.5, strength=1.5))
    window = slice(int(1.5 * RATE), int(3.5 * RATE))
    root = 440 * 2 ** ((Scale("pentatonic_major", "C", 4).root_midi - 24 - 69) / 12)  # C2, 65.4 Hz
    assert m.band_db(shielded[window], root * 0.97, root * 1.03) > m.band_db(base[window], root * 0.97,
                                                                               root * 1.03) + 6.0


def test_interference_adds_static() -> None:
    base, static = _compare(Event(EventKind.INTERFERENCE, t=0.5, strength=1.5))
    window = slice(int(1.0 * RATE), int(2.0 * RATE))
    assert m.band_db(static[window], 6000, 20000) > m.band_db(base[window], 6000, 20000) + 10.0


def test_node_joined_chimes_high() -> None:
    base, joined = _compare(Event(EventKind.NODE_JOINED, t=0.5, node="n2"))
    window = slice(int(0.5 * RATE), int(1.5 * RATE))
    assert m.band_db(joined[window], 1000, 6000) > m.band_db(base[window], 1000, 6000) + 10.0


def test_density_and_flow_drive_the_drone() -> None:
    sparse = render(4.0, density=0.05, flow=0.0)[2 * RATE:]
    dense = render(4.0, density=0.7, flow=0.8)[2 * RATE:]
    assert m.rms_db(dense) > m.rms_db(sparse) + 3.0


def test_mute_fades_to_silence_and_master_gain_scales() -> None:
    muted = render(1.0, {"synth.mute": True}, events_at=spikes(5, 1.0))
    assert np.abs(muted[512:]).max() == 0.0
    loud = render(2.0, {"synth.master_gain": 0.0}, events_at=spikes(9, 2.0))
    soft = render(2.0, {"synth.master_gain": -12.0}, events_at=spikes(9, 2.0))
    assert m.rms_db(loud) - m.rms_db(soft) == pytest.approx(12.0, abs=1.0)


def test_the_opening_hours_level_scales_the_sound_linearly_and_zero_is_silence() -> None:
    half = render(2.0, {"synth.open_level": 0.5}, events_at=spikes(9, 2.0))
    full = render(2.0, {}, events_at=spikes(9, 2.0))
    assert m.rms_db(full) - m.rms_db(half) == pytest.approx(6.0, abs=1.0)
    closed = render(1.0, {"synth.open_level": 0.0}, events_at=spikes(5, 1.0))
    assert np.abs(closed[512:]).max() == 0.0


def test_multichannel_ring_places_a_node_near_its_speaker() -> None:
    synth = Synth(RATE, 4, 256)
    synth.set_params({**QUIET, "synth.speaker_layout": "ring", "synth.voice_timbre": "bell"})
    out = np.zeros((188 * 256, 4), np.float32)
    # the first speaker of a ring of four sits top-left (front-left)
    synth.on_event(Event(EventKind.NODE_JOINED, x=0.05, y=0.05), 0)
    for start in range(0, len(out), 256):
        synth.process(out[start:start + 256])
    energy = [m.rms_db(out[:, c]) for c in range(4)]
    assert int(np.argmax(energy)) == 0 and energy[0] > energy[2] + 12.0, energy


def test_every_param_has_the_synth_prefix_and_the_ceiling_is_capped() -> None:
    specs = param_specs()
    assert all(spec.name.startswith("synth.") for spec in specs)
    ceiling = next(spec for spec in specs if spec.name == "synth.limiter_ceiling")
    assert ceiling.maximum <= -0.3
    names = {spec.name for spec in specs}
    for needed in ("synth.scale", "synth.root", "synth.density", "synth.voice_level", "synth.voice_timbre",
                   "synth.reverb_size", "synth.reverb_mix", "synth.master_gain", "synth.mute", "synth.drone_level"):
        assert needed in names


def test_frame_state_survives_nodes_joining_and_leaving() -> None:
    synth = Synth(RATE, 2, 256)
    out = np.zeros((256, 2), np.float32)
    for k, nodes in enumerate([3, 5, 0, 1, 8]):
        synth.push_frame(frame(k, nodes=nodes, live=True, potential=np.ones(nodes)), {})
        synth.process(out)
        assert np.isfinite(out).all()


def test_values_of_the_wrong_type_or_range_are_dropped_or_clamped() -> None:
    synth = Synth(RATE, 2, 256)
    synth.set_params({"synth.scale": "no-such-scale", "synth.root": 7, "synth.master_gain": 99.0,
                      "synth.density": "lots", "render.exposure": 2.0})
    assert synth.params["synth.scale"] == "pentatonic_major" and synth.params["synth.root"] == "C"
    assert synth.params["synth.master_gain"] == 6.0
    assert synth.params["synth.density"] == 0.6
    out = np.zeros((256, 2), np.float32)
    synth.process(out)
    assert np.isfinite(out).all()


@pytest.mark.parametrize("kind", [kind for kind in EventKind if kind is not EventKind.SPIKE])
def test_every_event_kind_changes_the_sound(kind: EventKind) -> None:
    base, changed = _compare(Event(kind, t=0.5, strength=2.0, x=0.3, y=0.4, node="n2"), seconds=2.5)
    window = slice(int(0.5 * RATE), int(2.5 * RATE))
    _, p_base = m.spectrum(base[window])
    _, p_changed = m.spectrum(changed[window])
    # mean absolute difference of the smoothed log spectra (dB), 50 Hz .. 12 kHz
    def smooth(p: np.ndarray) -> np.ndarray:
        return 10 * np.log10(np.convolve(p, np.ones(64) / 64, mode="same")[50 * 2:12000 * 2] + 1e-20)
    assert float(np.mean(np.abs(smooth(p_changed) - smooth(p_base)))) > 1.0
