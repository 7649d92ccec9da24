"""Modulation: LFOs against their formula at known beats, routings summed and clamped, envelopes
from events, the network's measures from a known frame, the bank's snapshot over its base, and
[[modulation]] tables in presets (round trip and errors)."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from installation.core.errors import LoadError
from installation.core.events import Event, EventKind
from installation.core.frames import empty_frame
from installation.core.modulation import (
    NODES_FULL,
    SPIKE_RATE_FULL,
    ModCurve,
    Modulator,
    RateUnit,
    Routing,
    Shape,
    Source,
    SourceKind,
    lfo_position,
    lfo_value,
    measures,
    sum_offsets,
)
from installation.core.params import Curve, ParamBank, bool_param, color_param, enum_param, float_param, int_param
from installation.core.paths import UserDirs
from installation.core.presets import PresetLibrary, load_preset

SPECS = {spec.name: spec for spec in (
    float_param("render.glow", 1.0, 0.0, 2.0),
    float_param("synth.decay", 1.0, 0.1, 10.0, curve=Curve.LOG),
    int_param("render.agents", 1000, 0, 2000),
    enum_param("synth.scale", "major", ("major", "lydian", "minor")),
    color_param("render.tint", "#000000"),
)}


def lfo(shape: Shape, rate: float = 1.0, unit: RateUnit = RateUnit.BEATS, phase: float = 0.0) -> Source:
    return Source(SourceKind.LFO, shape=shape, rate=rate, unit=unit, phase=phase)


# -- LFOs ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("beat", [0.0, 0.25, 0.5, 1.0, 1.75, 3.0, 5.5, 13.125])
def test_lfo_shapes_follow_the_formula_at_known_beats(beat: float) -> None:
    rate, phase = 4.0, 0.125  # one cycle a bar of 4 beats, an eighth of a cycle ahead
    x = beat / rate + phase
    p = x - math.floor(x)
    expected = {
        Shape.SINE: 0.5 + 0.5 * math.sin(2 * math.pi * p),
        Shape.TRIANGLE: 1 - abs(2 * p - 1),
        Shape.SAW: p,
        Shape.SQUARE: 1.0 if p < 0.5 else 0.0,
    }
    for shape, value in expected.items():
        source = lfo(shape, rate, phase=phase)
        assert lfo_position(source, 99.0, beat) == pytest.approx(x)
        assert lfo_value(shape, lfo_position(source, 99.0, beat)) == pytest.approx(value, abs=1e-12)


def test_lfo_landmarks_on_the_beat() -> None:
    """At 1 beat per cycle: sine 0.5 on the beat, 1 a quarter later; saw rises from 0; square halves."""
    sine, saw, square = lfo(Shape.SINE), lfo(Shape.SAW), lfo(Shape.SQUARE)
    assert lfo_value(Shape.SINE, lfo_position(sine, 0.0, 7.0)) == pytest.approx(0.5)
    assert lfo_value(Shape.SINE, lfo_position(sine, 0.0, 7.25)) == pytest.approx(1.0)
    assert lfo_value(Shape.SINE, lfo_position(sine, 0.0, 7.75)) == pytest.approx(0.0)
    assert lfo_value(Shape.SAW, lfo_position(saw, 0.0, 3.0)) == pytest.approx(0.0)
    assert lfo_value(Shape.SAW, lfo_position(saw, 0.0, 3.9)) == pytest.approx(0.9)
    assert lfo_value(Shape.SQUARE, lfo_position(square, 0.0, 2.49)) == 1.0
    assert lfo_value(Shape.SQUARE, lfo_position(square, 0.0, 2.51)) == 0.0


def test_hertz_lfos_run_on_time_not_beats() -> None:
    source = lfo(Shape.SAW, rate=2.0, unit=RateUnit.HZ, phase=0.1)
    assert lfo_position(source, 1.2, 1000.0) == pytest.approx(2.0 * 1.2 + 0.1)
    assert lfo_value(Shape.SAW, lfo_position(source, 1.2, 1000.0)) == pytest.approx(0.5)


def test_random_holds_each_cycle_and_smooth_random_joins_them() -> None:
    held = [lfo_value(Shape.RANDOM, cycle + frac) for cycle in range(8) for frac in (0.0, 0.3, 0.99)]
    per_cycle = [held[i:i + 3] for i in range(0, len(held), 3)]
    assert all(len(set(values)) == 1 for values in per_cycle)  # sample and hold: one value a cycle
    assert len({values[0] for values in per_cycle}) == 8  # and a new one each cycle
    assert all(0.0 <= value < 1.0 for value in held)
    assert lfo_value(Shape.RANDOM, 3.5, seed=1) != lfo_value(Shape.RANDOM, 3.5, seed=2)
    for cycle in range(8):
        a, b = lfo_value(Shape.RANDOM, cycle), lfo_value(Shape.RANDOM, cycle + 1)
        assert lfo_value(Shape.SMOOTH_RANDOM, cycle) == pytest.approx(a)
        assert lfo_value(Shape.SMOOTH_RANDOM, cycle + 0.5) == pytest.approx((a + b) / 2)
        assert lfo_value(Shape.SMOOTH_RANDOM, cycle + 1 - 1e-9) == pytest.approx(b, abs=1e-6)


# -- routings ------------------------------------------------------------------------------------
def test_routings_sum_per_target_with_their_curves_and_polarity() -> None:
    a, b = lfo(Shape.SINE), Source(SourceKind.NETWORK, "activity")
    routings = [Routing(a, "render.glow", 0.5), Routing(b, "render.glow", -0.2, ModCurve.EXP),
                Routing(b, "synth.decay", 0.4, ModCurve.LOG, bipolar=True)]
    offsets = sum_offsets(routings, {a: 0.8, b: 0.25})
    assert offsets["render.glow"] == pytest.approx(0.5 * 0.8 - 0.2 * 0.25 ** 2)
    assert offsets["synth.decay"] == pytest.approx(0.4 * (2 * math.sqrt(0.25) - 1))
    smooth = Routing(a, "render.glow", 1.0, ModCurve.SMOOTH)
    assert smooth.offset(0.25) == pytest.approx(0.25 * 0.25 * (3 - 0.5))


def test_the_bank_snapshot_carries_base_plus_modulation_clamped_while_the_base_stays() -> None:
    bank = ParamBank()
    bank.register_all(SPECS.values())
    bank.set("render.glow", 1.5, "ui")
    bank.set("synth.decay", 1.0, "preset")
    bank.modulate({"render.glow": 0.1, "synth.decay": 0.25, "render.agents": -0.3, "synth.scale": 0.6,
                   "render.tint": 0.5})
    snapshot = bank.snapshot()
    assert snapshot["render.glow"] == pytest.approx(1.7)  # 0.75 + 0.1 of a 0..2 range
    assert snapshot["synth.decay"] == pytest.approx(0.1 * 100 ** 0.75)  # log: 1.0 is half-way, +0.25 → 0.75
    assert snapshot["render.agents"] == 400
    assert snapshot["synth.scale"] == "lydian"  # 0 + 0.6 of three choices
    assert snapshot["render.tint"] == (0.0, 0.0, 0.0)  # a color is not modulated
    bank.modulate({"render.glow": 0.6})
    assert bank.snapshot()["render.glow"] == 2.0  # clamped within the range
    for name, value in (("render.glow", 1.5), ("synth.decay", 1.0)):
        assert bank.get(name) == value and bank.target(name) == value
        assert bank.base_snapshot()[name] == value
    assert bank.save_state()["render.glow"][:2] == [1.5, 1.5]  # a snapshot or preset saves the base
    bank.set("render.glow", 0.5, "midi")  # the performer moves the base: the modulation rides on it
    assert bank.snapshot()["render.glow"] == pytest.approx(0.5 + 1.2)
    bank.modulate({})
    assert bank.snapshot() is bank.base_snapshot() and bank.snapshot()["render.glow"] == 0.5


# -- envelopes and measures ------------------------------------------------------------------------
def step(modulator: Modulator, t: float, *events: Event, dt: float = 1 / 60) -> dict[str, float]:
    return modulator.update(t, 0.0, dt, replace(empty_frame(), events=events))


def test_an_envelope_rises_holds_and_decays_from_its_event() -> None:
    source = Source(SourceKind.ENVELOPE, "bloom", attack=0.1, hold=0.2, decay=0.4)
    modulator = Modulator()
    modulator.set_routings([Routing(source, "render.glow", 0.5)])
    assert step(modulator, 0.0, Event(EventKind.SURGE)) == {"render.glow": 0.0}  # another kind: nothing
    step(modulator, 1.0, Event(EventKind.BLOOM, strength=0.8))
    expected = {1.05: 0.4, 1.1: 0.8, 1.25: 0.8, 1.3: 0.8, 1.5: 0.8 * 0.5, 1.7: 0.0, 3.0: 0.0}
    for t, value in expected.items():
        assert step(modulator, t)["render.glow"] == pytest.approx(0.5 * value, abs=1e-9), t
    step(modulator, 4.0, Event(EventKind.BLOOM, strength=3.0))  # strength above 1 peaks at 1
    step(modulator, 4.2)
    step(modulator, 4.35)  # decaying: 1 - 0.05 / 0.4
    step(modulator, 4.35, Event(EventKind.BLOOM, strength=1.0))  # retriggered: starts where it stands
    assert modulator.values[source] == pytest.approx(0.875)
    assert step(modulator, 4.4)["render.glow"] == pytest.approx(0.5 * (0.875 + 0.125 * 0.5))


def test_the_network_measures_from_a_known_frame() -> None:
    frame = empty_frame(grid=(4, 4))
    frame.fields["toxin"][:2] = 0.6  # half the grid at 0.6
    frame.fields["flora"][:] = 0.25
    n = 4
    frame = replace(frame, node_ids=tuple(f"n{i}" for i in range(n)), activity=np.array([0, 0.2, 0.4, 1.0], np.float32),
                    positions=np.zeros((n, 2), np.float32))
    values = measures(frame, spike_rate=5.0)
    assert values == pytest.approx({"activity": 0.4, "spike_rate": 5.0 / SPIKE_RATE_FULL, "toxin": 0.3,
                                    "flora": 0.25, "nodes": n / NODES_FULL})
    # the spike rate settles on the events' rate: 2 spikes a step at 60 steps a second
    modulator = Modulator()
    modulator.set_routings([Routing(Source(SourceKind.NETWORK, "spike_rate"), "render.glow", 1.0)])
    spikes = (Event(EventKind.SPIKE), Event(EventKind.SPIKE), Event(EventKind.BLOOM))
    for i in range(600):
        offsets = step(modulator, i / 60, *spikes)
    assert modulator.spike_rate == pytest.approx(120.0, rel=1e-3)
    assert offsets["render.glow"] == 1.0  # 120/s is above the full scale


def test_room_and_midi_sources_read_what_the_engine_hands_over() -> None:
    room, midi = Source(SourceKind.ROOM, "low"), Source(SourceKind.MIDI, channel=2, cc=74)
    modulator = Modulator(room={"room.low": 0.7, "room.level": float("nan")})
    modulator.set_routings([Routing(room, "render.glow", 0.5), Routing(midi, "synth.decay", -1.0),
                            Routing(Source(SourceKind.ROOM, "level"), "render.agents", 1.0)])
    modulator.control(2, 74, 0.25)
    modulator.control(1, 74, 1.0)  # another channel
    assert step(modulator, 0.0) == pytest.approx({"render.glow": 0.35, "synth.decay": -0.25, "render.agents": 0.0})


# -- presets ------------------------------------------------------------------------------------------
PRESET = """\
[preset]
title = "Pulse"
seed = "kai-city"
look = "festival"

[params]
"render.glow" = 1.0

# the glow breathes with the bar
[[modulation]]
source = "lfo"
target = "render.glow"
depth = 0.25
shape = "triangle"
rate = 4
bipolar = true

[[modulation]]
source = "envelope"
event = "bloom"
target = "synth.decay"
depth = -0.5
decay = 2.0

[[modulation]]
source = "network.toxin"
target = "render.agents"
depth = 0.3
curve = "smooth"

[[modulation]]
source = "midi"
channel = 3
cc = 21
target = "synth.scale"
depth = 1.0
"""


def test_routings_load_from_a_preset_and_save_back_in_place(tmp_path: Path) -> None:
    path = tmp_path / "shipped" / "pulse.toml"
    path.parent.mkdir()
    path.write_text(PRESET)
    preset = load_preset(path, SPECS)
    assert [r.source.label for r in preset.modulation] == [
        "lfo triangle 4 beats", "envelope bloom 0.01/0/2 s", "network.toxin", "midi ch 3 cc 21"]
    first = preset.modulation[0]
    assert (first.target, first.depth, first.bipolar, first.source.shape, first.source.rate) == (
        "render.glow", 0.25, True, Shape.TRIANGLE, 4.0)
    user = UserDirs.default().ensure()
    library = PresetLibrary(user, [user.presets, path.parent])
    saved = library.save(preset, SPECS)
    assert saved.read_text() == PRESET  # nothing changed: the artist's text as it was
    wander = Routing(lfo(Shape.SMOOTH_RANDOM, 0.5, RateUnit.HZ, 0.25), "render.glow", 0.2)
    changed = replace(preset, modulation=(*preset.modulation[:2], replace(preset.modulation[2], depth=-0.1), wander))
    saved = library.save(changed, SPECS)
    text = saved.read_text()
    assert "# the glow breathes with the bar" in text
    assert load_preset(saved, SPECS).modulation == changed.modulation
    assert load_preset(saved, SPECS).params == preset.params
    saved = library.save(replace(preset, modulation=()), SPECS)
    assert "modulation" not in saved.read_text() and load_preset(saved, SPECS).modulation == ()


def test_bad_routings_are_reported_with_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(PRESET.replace('shape = "triangle"', 'shape = "wobble"')
                    .replace('event = "bloom"', 'event = "party"')
                    .replace('target = "render.agents"', 'target = "render.tint"')
                    .replace("cc = 21", "cc = 200\nspeed = 3")
                    + '\n[[modulation]]\nsource = "lfo"\ntarget = "render.nothing"\ndepth = 2\n'
                    + '\n[[modulation]]\nsource = "weather"\ntarget = "render.glow"\ndepth = 0.1\n')
    with pytest.raises(LoadError) as caught:
        load_preset(path, SPECS)
    lines = str(caught.value).splitlines()
    expected = [
        "14: modulation[0].shape: 'wobble' is not one of sine, triangle",
        "20: modulation[1].event: 'party' is not one of",
        "27: modulation[2].target: a color has no single normalised value",
        "34: modulation[3].cc: 200 is outside [0, 127]",
        "35: modulation[3].speed: unknown key",
        "41: modulation[4].target: unknown parameter 'render.nothing'",
        "42: modulation[4].depth: 2 is outside [-1, 1]",
        "45: modulation[5].source: 'weather' is not one of lfo, envelope, network.activity",
    ]
    for want in expected:
        assert any(line.startswith(f"{path}:{want}") for line in lines), (want, lines)
    assert len(lines) == len(expected)


@pytest.mark.parametrize("tables", [
    "modulation = 3",
    "modulation = [1, 2]",
    "[[modulation]]\nsource = 5\ntarget = []\ndepth = nan",
    "[[modulation]]\nsource = \"lfo\"\ntarget = \"render.glow\"\ndepth = true\nrate = 0\nshape = 1\nunit = {}",
    "[[modulation]]\nsource = \"envelope\"\nevent = 7\ntarget = \"render.glow\"\ndepth = 0.1\nattack = -1",
    "[[modulation]]\nsource = \"midi\"\ntarget = \"render.glow\"\ndepth = 0.1\nchannel = 0",
    "[[modulation]]\nsource = \"network.\"\ntarget = \"render.glow\"\ndepth = 0.1",
    "[[modulation]]\nsource = \"lfo\"\ntarget = \"show.paused\"\ndepth = 0.1",
    "[[modulation]]\nsource = \"lfo\"\ntarget = \"show.time_scale\"\ndepth = 0.1",
    "".join("[[modulation]]\nsource = \"lfo\"\ntarget = \"render.glow\"\ndepth = 0.1\n" for _ in range(65)),
])
def test_hostile_routings_are_reported_never_raised_otherwise(tmp_path: Path, tables: str) -> None:
    path = tmp_path / "hostile.toml"
    path.write_text('[preset]\ntitle = "x"\nseed = "kai-city"\nlook = "festival"\n\n' + tables + "\n")
    specs = {**SPECS, "show.paused": bool_param("show.paused", False),
             "show.time_scale": float_param("show.time_scale", 1.0, 0.0, 8.0)}
    with pytest.raises(LoadError) as caught:
        load_preset(path, specs)
    assert all(line.startswith(f"{path}:") for line in str(caught.value).splitlines())
