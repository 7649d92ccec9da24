"""The pure mapping: every message type, curves, ranges, relative encoders, buttons, smoothing."""

from __future__ import annotations

import itertools
import math

import pytest

from installation.core.events import CommandInput, EventKind, ParamInput
from installation.midi.bindings import (
    Binding,
    ButtonMode,
    Control,
    ControlType,
    Curve,
    Relative,
    Takeover,
    Target,
    apply_curve,
    invert_curve,
    parse_target,
)
from tests.core.midi_helpers import Rig

CC = ControlType.CC


def bind(control_type: ControlType, number: int, target: Target, **options: object) -> Binding:
    options.setdefault("takeover", Takeover.JUMP)
    return Binding(Control(control_type, None, number), target, **options)  # type: ignore[arg-type]


def test_cc_sets_parameter_over_its_range() -> None:
    rig = Rig([bind(CC, 7, Target.param("render.glow"))])
    rig.send(0xB0, 7, 127)
    assert rig.value("render.glow") == pytest.approx(2.0)
    rig.send(0xB0, 7, 0)
    assert rig.value("render.glow") == pytest.approx(0.0)
    rig.send(0xB5, 7, 64)  # any channel
    assert rig.value("render.glow") == pytest.approx(2.0 * 64 / 127)


def test_channel_filter_and_unmapped_count() -> None:
    binding = Binding(Control(CC, 2, 7), Target.param("render.glow"), takeover=Takeover.JUMP)
    rig = Rig([binding])
    rig.send(0xB0, 7, 127)
    assert rig.value("render.glow") == 1.0
    assert rig.router.counts[rig.port].unmapped == 1
    rig.send(0xB2, 7, 127)
    assert rig.value("render.glow") == 2.0


def test_range_invert_and_param_log_curve() -> None:
    rig = Rig([bind(CC, 1, Target.param("render.glow"), range=(0.5, 1.5), invert=True),
               bind(CC, 2, Target.param("synth.decay"))])
    rig.send(0xB0, 1, 0)
    assert rig.value("render.glow") == pytest.approx(1.5)
    rig.send(0xB0, 1, 127)
    assert rig.value("render.glow") == pytest.approx(0.5)
    rig.send(0xB0, 2, 64)  # the parameter's own log curve: half way is the geometric mean
    assert rig.value("synth.decay") == pytest.approx(0.1 * 100 ** (64 / 127), rel=1e-6)


@pytest.mark.parametrize("curve", list(Curve))
def test_binding_curves_are_monotonic_and_invertible(curve: Curve) -> None:
    points = [apply_curve(curve, i / 100) for i in range(101)]
    assert points[0] == pytest.approx(0.0) and points[-1] == pytest.approx(1.0)
    assert all(b > a for a, b in itertools.pairwise(points))
    for position in (0.1, 0.5, 0.9):
        assert invert_curve(curve, apply_curve(curve, position)) == pytest.approx(position)
    if curve is Curve.EXP:
        assert apply_curve(curve, 0.5) < 0.3
    if curve is Curve.LOG:
        assert apply_curve(curve, 0.5) > 0.7


def test_cc14_pair_gives_fine_resolution() -> None:
    rig = Rig([bind(ControlType.CC14, 2, Target.param("render.glow"))])
    rig.send(0xB0, 2, 64)
    assert rig.value("render.glow") == pytest.approx(2.0 * (64 << 7) / 16383)
    rig.send(0xB0, 34, 100)
    assert rig.value("render.glow") == pytest.approx(2.0 * ((64 << 7) | 100) / 16383)


def test_nrpn_data_entry_and_increment() -> None:
    rig = Rig([bind(ControlType.NRPN, (3 << 7) | 5, Target.param("render.glow"), step=0.1)])
    for number, value in ((99, 3), (98, 5), (6, 127), (38, 127)):
        rig.send(0xB0, number, value)
    assert rig.value("render.glow") == pytest.approx(2.0)
    rig.send(0xB0, 97, 1)  # data decrement: one step of 0.1 of the range
    assert rig.value("render.glow") == pytest.approx(1.8)
    rig.send(0xB0, 101, 0)  # an RPN selected: data entry no longer goes to the NRPN
    rig.send(0xB0, 6, 0)
    assert rig.value("render.glow") == pytest.approx(1.8)


def test_pitchbend_aftertouch_and_poly_aftertouch() -> None:
    rig = Rig([bind(ControlType.PITCHBEND, 0, Target.param("render.glow")),
               bind(ControlType.AFTERTOUCH, 0, Target.param("synth.decay"), range=(1.0, 2.0)),
               bind(ControlType.POLY_AFTERTOUCH, 60, Target.param("synth.octave"))])
    rig.send(0xE0, 0, 64)
    assert rig.value("render.glow") == pytest.approx(2.0 * 8192 / 16383)
    rig.send(0xD0, 127)
    assert rig.value("synth.decay") == pytest.approx(2.0)
    rig.send(0xA0, 60, 127)
    assert rig.value("synth.octave") == 6


@pytest.mark.parametrize(("encoding", "up", "down"), [
    (Relative.TWOS_COMPLEMENT, 3, 125),
    (Relative.BINARY_OFFSET, 67, 61),
    (Relative.SIGN_MAGNITUDE, 3, 0x43),
])
def test_relative_encoders(encoding: Relative, up: int, down: int) -> None:
    rig = Rig([bind(CC, 10, Target.param("render.glow"), relative=encoding, step=0.01)])
    rig.send(0xB0, 10, up)
    assert rig.value("render.glow") == pytest.approx(1.0 + 3 * 0.01 * 2.0)
    rig.send(0xB0, 10, down)
    rig.send(0xB0, 10, down)
    assert rig.value("render.glow") == pytest.approx(1.0 - 3 * 0.01 * 2.0)
    for _ in range(100):
        rig.send(0xB0, 10, up)
    assert rig.value("render.glow") == pytest.approx(2.0)  # clamped at the end of the range


def test_note_velocity_fires_event_with_strength() -> None:
    rig = Rig([bind(ControlType.NOTE, 60, Target.event("surge"), x=0.25)])
    rig.send(0x90, 60, 127)
    rig.send(0x80, 60, 64)  # a note-off with a release velocity fires nothing
    rig.send(0x90, 60, 32)
    assert [e.kind for e in rig.events] == [EventKind.SURGE, EventKind.SURGE]
    assert rig.events[0].strength == pytest.approx(2.0)
    assert rig.events[1].strength == pytest.approx(2.0 * 32 / 127)
    assert rig.events[0].x == 0.25 and rig.events[0].source == "midi"


def test_program_change_recalls_preset_and_buttons_fire_commands_once() -> None:
    rig = Rig([bind(ControlType.PROGRAM, 4, Target.command("preset", "kai-3-surge")),
               bind(CC, 59, Target.command("next_act"))])
    rig.send(0xC0, 4)
    rig.send(0xC0, 5)
    rig.send(0xB0, 59, 127)
    rig.send(0xB0, 59, 127)  # still held: no second press
    rig.send(0xB0, 59, 0)
    rig.send(0xB0, 59, 127)
    assert rig.commands == [CommandInput("preset", "kai-3-surge", "midi"), CommandInput("next_act", "", "midi"),
                            CommandInput("next_act", "", "midi")]


def test_toggle_and_momentary_buttons() -> None:
    rig = Rig([bind(ControlType.NOTE, 1, Target.param("synth.mute"), button=ButtonMode.TOGGLE),
               bind(CC, 2, Target.param("render.glow"), button=ButtonMode.MOMENTARY, range=(0.5, 1.5))])
    rig.send(0x90, 1, 127)
    rig.send(0x80, 1, 0)
    assert rig.value("synth.mute") is True
    rig.send(0x90, 1, 127)
    assert rig.value("synth.mute") is False
    rig.send(0xB0, 2, 127)
    assert rig.value("render.glow") == pytest.approx(1.5)
    rig.send(0xB0, 2, 0)
    assert rig.value("render.glow") == pytest.approx(0.5)


def test_smoothing_glides_to_the_target() -> None:
    rig = Rig([bind(CC, 7, Target.param("render.glow"), smoothing_s=0.1)])
    assert rig.send(0xB0, 7, 127) == []
    rig.tick(0.1)
    middle = float(rig.value("render.glow"))  # type: ignore[arg-type]
    assert 1.0 + 0.5 < middle < 2.0  # one time constant: about 63 % of the way
    assert middle == pytest.approx(1.0 + (1 - math.exp(-1)) * 1.0, rel=1e-6)
    for _ in range(30):
        rig.tick(0.05)
    assert rig.value("render.glow") == pytest.approx(2.0)
    assert rig.tick(0.05) == []  # the glide has ended


def test_tap_tempo_is_handled_by_the_midi_layer() -> None:
    rig = Rig([bind(CC, 46, Target.command("tap_tempo"))])
    for _ in range(5):
        rig.send(0xB0, 46, 127, dt=0.25)
        rig.send(0xB0, 46, 0, dt=0.25)
    assert rig.commands == []
    assert rig.value("midi.tempo_bpm") == pytest.approx(120.0)
    assert rig.value("midi.clock_source") == "tap"


def test_unknown_parameter_is_counted_not_raised() -> None:
    rig = Rig([bind(CC, 7, Target.param("render.nothing"))])
    assert rig.send(0xB0, 7, 3) == []
    assert rig.router.counts[rig.port].unmapped == 1


def test_parse_target() -> None:
    assert parse_target("command:preset kai-1-living-city") == Target.command("preset", "kai-1-living-city")
    assert parse_target("event:bloom") == Target.event("bloom")
    with pytest.raises(ValueError):
        parse_target("event:nothing")
    with pytest.raises(ValueError):
        parse_target("fader 3")


def test_only_param_inputs_reach_the_bank() -> None:
    rig = Rig([bind(CC, 7, Target.param("render.glow"))])
    out = rig.send(0xB0, 7, 10)
    assert out == [ParamInput("render.glow", pytest.approx(2.0 * 10 / 127), "midi", fade_s=0.0)]


def test_a_fader_moves_its_parameter_directly_and_a_button_keeps_the_parameters_own_fade() -> None:
    rig = Rig([bind(CC, 7, Target.param("render.glow")),
               bind(CC, 8, Target.param("render.glow"), button=ButtonMode.TOGGLE)])
    assert [item.fade_s for item in rig.send(0xB0, 7, 10)] == [0.0]  # type: ignore[union-attr]
    assert [item.fade_s for item in rig.send(0xB0, 8, 127)] == [None]  # type: ignore[union-attr]
