"""Modulation in the engine: the snapshot carries base + modulation while the target stays the base;
routings from presets, from the matrix (RoutingsInput) and MIDI controls (ControlInput); a modulated
synth parameter moves the sound (offline synth)."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest

from installation.core.events import ControlInput, ParamInput, RoutingsInput
from installation.core.frames import WorldFrame
from installation.core.modulation import AMOUNT, Routing, Shape, Source, SourceKind
from installation.core.paths import UserDirs
from installation.engine import Engine
from installation.registry import build_bank
from installation.synth.offline import render_stream

EXPOSURE = "render.exposure"  # linear, 0.1 .. 4.0


def engine_at_120() -> Engine:
    """An engine whose tempo clock is its own world time, beat 0 at t = 0, 120 BPM (a beat every 0.5 s)."""
    engine = Engine.for_show("elara-mural", bank=build_bank())
    engine.bank.set("tempo.bpm", 120.0, "ui")  # the default, said
    engine.on_world_time()
    return engine


def exposure(normalised: float) -> float:
    return 0.1 + min(1.0, max(0.0, normalised)) * (4.0 - 0.1)


def run_to_beat(engine: Engine, beat: float) -> None:
    while engine.tempo.beat_at(engine.t) < beat:
        engine.step()


def test_the_snapshot_carries_the_modulated_value_and_the_target_stays_the_base() -> None:
    engine = engine_at_120()
    engine.inputs.put(ParamInput(EXPOSURE, 1.0, "ui"))
    square = Source(SourceKind.LFO, shape=Shape.SQUARE, rate=1.0)  # 1 for the first half of each beat
    engine.inputs.put(RoutingsInput((Routing(square, EXPOSURE, 0.3),)))
    engine.advance(1.0)  # the base glides to 1.0
    base = (1.0 - 0.1) / 3.9
    run_to_beat(engine, 4.1)  # in the first half of beat 4: the square is up
    assert engine.bank.snapshot()[EXPOSURE] == pytest.approx(exposure(base + 0.3))
    assert engine.bank.target(EXPOSURE) == engine.bank.get(EXPOSURE) == pytest.approx(1.0)
    run_to_beat(engine, 4.6)  # second half: down
    assert engine.bank.snapshot()[EXPOSURE] == pytest.approx(1.0)
    run_to_beat(engine, 5.1)
    engine.inputs.put(ParamInput(AMOUNT, 0.5, "osc"))  # the master amount halves every depth
    engine.advance(0.2)
    run_to_beat(engine, 6.1)
    assert engine.bank.snapshot()[EXPOSURE] == pytest.approx(exposure(base + 0.15))
    assert engine.modulation.routings == (Routing(square, EXPOSURE, 0.3),)


def test_a_midi_control_moves_its_routing_and_a_recalled_preset_brings_its_own() -> None:
    engine = engine_at_120()
    engine.inputs.put(ParamInput(EXPOSURE, 2.05, "ui"))  # half-way
    cc = Source(SourceKind.MIDI, channel=1, cc=74)
    engine.inputs.put(RoutingsInput((Routing(cc, EXPOSURE, -0.4, bipolar=True),)))
    engine.inputs.put(ControlInput(1, 74, 1.0))
    engine.advance(1.0)
    assert engine.bank.snapshot()[EXPOSURE] == pytest.approx(exposure(0.5 - 0.4))
    engine.inputs.put(ControlInput(1, 74, 0.0))
    engine.step()
    assert engine.bank.snapshot()[EXPOSURE] == pytest.approx(exposure(0.5 + 0.4))
    # a preset with its own routing replaces them when recalled
    user = UserDirs.default().ensure()
    text = engine.presets.path(engine.preset.name).read_text()
    (user.presets / "pulse.toml").write_text(
        text + '\n[[modulation]]\nsource = "lfo"\nshape = "saw"\nrate = 2\ntarget = "render.exposure"\ndepth = 0.2\n')
    assert engine.recall("pulse", crossfade_s=0.0)
    engine.inputs.put(ParamInput(EXPOSURE, 2.05, "ui"))
    engine.advance(1.0)
    run_to_beat(engine, 9.0)  # saw over 2 beats: a quarter of the way at beat 9.5
    run_to_beat(engine, 9.5)
    beat = engine.tempo.beat_at(engine.now)
    saw = beat / 2 - math.floor(beat / 2)
    assert engine.bank.snapshot()[EXPOSURE] == pytest.approx(exposure(0.5 + 0.2 * saw))
    assert [r.source.kind for r in engine.modulation.routings] == [SourceKind.LFO]


def test_a_modulated_synth_parameter_moves_the_sound() -> None:
    """synth.master_gain under a square LFO a beat long: the half-beats it is up are louder by its depth."""
    engine = engine_at_120()
    engine.bank.set("synth.master_gain", -20.0, "ui", immediate=True)
    square = Source(SourceKind.LFO, shape=Shape.SQUARE, rate=1.0)
    engine.inputs.put(RoutingsInput((Routing(square, "synth.master_gain", 12 / 66),)))  # +12 dB of a 66 dB range

    def frames() -> Iterator[WorldFrame]:
        while True:
            yield engine.step()

    rate, seconds = 48000, 6.0
    audio = render_stream(frames(), engine.bank.snapshot, engine.dt, seconds, rate)
    mono = audio.mean(axis=1)
    up: list[float] = []
    down: list[float] = []
    for beat in range(2, 12):  # from 1 s on; each half-beat less 30 ms at both ends (gain ramps, the limiter)
        start = beat * 0.5
        for (a, b), into in (((start + 0.03, start + 0.22), up), ((start + 0.28, start + 0.47), down)):
            into.append(float(np.sqrt(np.mean(mono[round(a * rate):round(b * rate)] ** 2))))
    ratio_db = 20 * math.log10(np.median(up) / np.median(down))
    assert ratio_db == pytest.approx(12.0, abs=1.5)


def test_an_engine_restored_from_a_snapshot_plays_the_recalled_presets_routings() -> None:
    user = UserDirs.default().ensure()
    first = engine_at_120()
    text = first.presets.path(first.preset.name).read_text()
    (user.presets / "pulse.toml").write_text(
        text + '\n[[modulation]]\nsource = "network.flora"\ntarget = "render.exposure"\ndepth = 0.2\n')
    assert first.recall("pulse", crossfade_s=0.0)
    first.advance(0.5)
    snapshot = first.save_snapshot()
    second = Engine.for_show("elara-mural", bank=build_bank())
    assert second.modulation.routings == ()
    second.restore(snapshot)
    assert second.preset.name == "pulse"
    assert second.modulation.routings == first.modulation.routings == (
        Routing(Source(SourceKind.NETWORK, "flora"), EXPOSURE, 0.2),)
