"""Soft takeover (jump, pick-up, scale) and feedback to LEDs and motor faders."""

from __future__ import annotations

import itertools

import pytest

from installation.midi.bindings import Binding, ButtonMode, Control, ControlType, Takeover, Target
from installation.midi.takeover import TakeoverState
from tests.core.midi_helpers import Rig

CC = ControlType.CC


def knob(mode: Takeover, number: int = 7, **options: object) -> Binding:
    return Binding(Control(CC, None, number), Target.param("render.glow"), takeover=mode, **options)  # type: ignore[arg-type]


def sweep(rig: Rig, values: range, number: int = 7) -> list[float]:
    seen = []
    for value in values:
        rig.send(0xB0, number, value)
        seen.append(float(rig.value("render.glow")))  # type: ignore[arg-type]
    return seen


def test_jump_follows_at_once() -> None:
    rig = Rig([knob(Takeover.JUMP)])
    rig.send(0xB0, 7, 10)
    assert rig.value("render.glow") == pytest.approx(2.0 * 10 / 127)


def test_pickup_waits_until_the_knob_reaches_the_value() -> None:
    rig = Rig([knob(Takeover.PICKUP)])
    rig.bank.set("render.glow", 1.5, "preset")  # a preset recall: knob at 0, value at 3/4
    rig.router.feedback()
    values = sweep(rig, range(0, 128, 4))
    caught = next(i for i, v in enumerate(values) if v != 1.5)
    assert all(v == 1.5 for v in values[:caught])           # no jump before the knob got there
    assert values[caught] == pytest.approx(1.5, abs=2.0 * 4 / 127)  # and no jump when it does
    assert values[-1] == pytest.approx(2.0 * 124 / 127)


def test_pickup_catches_a_knob_that_jumps_past_the_value() -> None:
    rig = Rig([knob(Takeover.PICKUP)])
    sweep(rig, range(60, 70))  # glow 1.0 is knob 63.5: caught
    rig.bank.set("render.glow", 0.5, "ui")
    rig.router.feedback()
    assert sweep(rig, range(80, 90, 5)) == [0.5, 0.5]      # moving away: ignored
    after = sweep(rig, [10, 5])  # type: ignore[arg-type]  # crossed 31.75 between two messages
    assert after == pytest.approx([2.0 * 10 / 127, 2.0 * 5 / 127])


def test_scale_moves_proportionally_and_meets_at_the_end() -> None:
    rig = Rig([knob(Takeover.SCALE)])
    rig.bank.set("render.glow", 1.5, "preset")  # value at 0.75, knob coming from 0
    rig.router.feedback()
    values = sweep(rig, range(0, 128))
    steps = [b - a for a, b in itertools.pairwise(values)]
    assert max(abs(s) for s in steps) < 2.0 * 2 / 127       # never a jump
    assert values[1] > 1.5                                   # moves at once, proportionally
    assert values[-1] == pytest.approx(2.0)                  # both at the top together


def test_another_controller_rearms_takeover() -> None:
    rig = Rig([knob(Takeover.PICKUP)])
    rig.router.open_port("testctl-b:out")
    sweep(rig, range(60, 66))
    rig.port, first = "testctl-b:out", rig.port
    sweep(rig, range(60, 128))  # the second controller catches the value and takes it to the top
    assert rig.value("render.glow") == pytest.approx(2.0)
    rig.port = first
    assert sweep(rig, range(66, 70)) == [2.0] * 4            # the first knob must catch it again


def test_takeover_state_scale_without_room() -> None:
    state = TakeoverState(Takeover.SCALE)
    assert state.move(1.0, 0.2) is None
    assert state.move(1.0, 0.2) is None                      # no movement, no change


def test_feedback_after_preset_recall_shows_values_and_button_state() -> None:
    rig = Rig([knob(Takeover.PICKUP, feedback=True),
               Binding(Control(ControlType.CC14, 0, 1), Target.param("render.glow"), feedback=True),
               Binding(Control(ControlType.NOTE, 0, 82), Target.param("synth.mute"), button=ButtonMode.TOGGLE,
                       feedback=True, led_on=1, led_off=0),
               Binding(Control(ControlType.PITCHBEND, 3, 0), Target.param("synth.decay"), feedback=True)])
    assert rig.router.feedback() == []
    rig.bank.set("render.glow", 0.5, "preset")
    rig.bank.set("synth.mute", True, "preset")
    rig.bank.set("synth.decay", 1.0, "preset")
    out = rig.router.feedback()
    fine = round(0.25 * 16383)
    assert out == [(rig.port, [0xB0, 7, 32]), (rig.port, [0xB0, 1, fine >> 7]), (rig.port, [0xB0, 33, fine & 0x7F]),
                   (rig.port, [0x90, 82, 1]), (rig.port, [0xE3, 0, 64])]
    rig.bank.set("synth.mute", False, "ui")
    assert rig.router.feedback() == [(rig.port, [0x90, 82, 0])]
    assert rig.router.counts[rig.port].sent == 6


def test_no_echo_to_the_control_that_made_the_change() -> None:
    rig = Rig([knob(Takeover.JUMP, feedback=True)])
    rig.router.open_port("testctl-motor:out")
    rig.send(0xB0, 7, 100)
    out = rig.router.feedback()
    assert out == [("testctl-motor:out", [0xB0, 7, 100])]  # the other controller's fader follows; no echo back


def test_full_feedback_on_connect() -> None:
    rig = Rig([knob(Takeover.PICKUP, feedback=True, invert=True)])
    rig.bank.set("render.glow", 2.0, "preset")
    assert rig.router.full_feedback(rig.port) == [[0xB0, 7, 0]]


def test_the_current_presets_button_is_lit_and_the_others_dark() -> None:
    def preset_button(number: int, name: str) -> Binding:
        return Binding(Control(ControlType.NOTE, 0, number), Target.command("preset", name), feedback=True,
                       led_on=1, led_off=5)

    rig = Rig([preset_button(0, "kai-1-living-city"), preset_button(1, "kai-2-poison-clusters"),
               Binding(Control(ControlType.NOTE, 0, 2), Target.command("preset", "elara-1-reclamation"))])
    assert rig.router.preset_changed("kai-2-poison-clusters") == [(rig.port, [0x90, 0, 5]), (rig.port, [0x90, 1, 1])]
    assert rig.router.full_feedback(rig.port) == [[0x90, 0, 5], [0x90, 1, 1]]  # a controller plugged in later
    assert rig.router.preset_changed("elara-1-reclamation") == [(rig.port, [0x90, 0, 5]), (rig.port, [0x90, 1, 5])]
    assert rig.router.counts[rig.port].sent == 4
