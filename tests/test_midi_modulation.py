"""MIDI and modulation over real JACK MIDI: any control (bound to something or not) is a modulation
source, and a bound fader's soft takeover meets the base value, not the modulated one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from installation.core.events import RoutingsInput
from installation.core.modulation import Routing, Source, SourceKind
from installation.engine import Engine
from installation.inputs.midi import MidiInputs
from installation.midi.bindings import Binding, Control, ControlType, Takeover, Target
from installation.midi.profile import Profile
from installation.registry import build_bank
from tests.midi_rig import TestController, listening, send_through

EXPOSURE = "render.exposure"  # linear 0.1 .. 4.0
FADER, FREE = 16, 74  # CC 16 is bound to the exposure (pickup); CC 74 to nothing


@pytest.fixture
def engine() -> Engine:
    return Engine.for_show("elara-mural", bank=build_bank())


@pytest.fixture
def midi(controller: TestController, engine: Engine) -> Iterator[MidiInputs]:
    profile = Profile("test", controller.name, (
        Binding(Control(ControlType.CC, None, FADER), Target.param(EXPOSURE), takeover=Takeover.PICKUP),))
    with listening(MidiInputs(engine.inputs, engine.bank, [profile], pattern=controller.name), controller) as inputs:
        yield inputs


def send(controller: TestController, midi: MidiInputs, engine: Engine, number: int, value: int) -> None:
    """Send a CC, wait until the MIDI thread posted what it makes, and step the engine."""
    send_through(controller, midi, 0xB0, number, value)
    engine.step()


def normalised(engine: Engine) -> float:
    return (float(engine.bank.snapshot()[EXPOSURE]) - 0.1) / 3.9  # type: ignore[arg-type]


def test_an_unbound_control_modulates_and_a_bound_fader_picks_up_the_base(
        controller: TestController, midi: MidiInputs, engine: Engine) -> None:
    # the preset's exposure, set before the MIDI layer started: the fader's takeover asks the bank for it
    start = float(engine.bank.target(EXPOSURE))  # type: ignore[arg-type]
    base = (start - 0.1) / 3.9
    engine.inputs.put(RoutingsInput((Routing(Source(SourceKind.MIDI, channel=1, cc=FREE), EXPOSURE, 0.5),)))
    send(controller, midi, engine, FREE, 127)
    assert normalised(engine) == pytest.approx(base + 0.5)
    send(controller, midi, engine, FREE, 0)
    assert normalised(engine) == pytest.approx(base)
    send(controller, midi, engine, FREE, 127)
    # the fader brought to where the picture is (base + 0.5) is far from the base: no pickup there
    send(controller, midi, engine, FADER, round((base + 0.5) * 127))
    assert engine.bank.target(EXPOSURE) == start
    send(controller, midi, engine, FADER, round(base * 127))  # at the base: picked up
    send(controller, midi, engine, FADER, round(0.5 * 127))
    assert engine.bank.target(EXPOSURE) == pytest.approx(0.1 + 64 / 127 * 3.9)
    assert engine.bank.source(EXPOSURE) == "midi"
