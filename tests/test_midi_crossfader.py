"""The crossfader on the shipped APC mini profile's fader 8, over real JACK MIDI, with soft takeover."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from installation.core.commands import CROSSFADER
from installation.core.morph import morph
from installation.core.paths import resource_dir
from installation.engine import Engine
from installation.inputs.midi import MidiInputs
from installation.midi.profile import load_profile
from installation.registry import build_bank
from tests.midi_rig import TestController, listening, received, send_through
from tests.waiting import wait_for

B = "elara-3-confrontation"
FADER = 55  # APC mini fader 8 (presets/midi/akai_apc_mini.toml)


@pytest.fixture
def engine() -> Engine:
    return Engine.for_show("kai-festival", bank=build_bank())


@pytest.fixture
def midi(controller: TestController, engine: Engine) -> Iterator[MidiInputs]:
    shipped = load_profile(resource_dir("presets") / "midi" / "akai_apc_mini.toml")
    with listening(MidiInputs(engine.inputs, engine.bank, [dataclasses.replace(shipped, port=controller.name)],
                              pattern=controller.name), controller) as inputs:
        yield inputs


def move(controller: TestController, midi: MidiInputs, engine: Engine, value: int) -> float:
    """Send the fader's CC, wait until the MIDI thread posted what it makes, and step the engine once."""
    send_through(controller, midi, 0xB0, FADER, value)
    engine.step()
    return engine.bank.number(CROSSFADER)


def test_the_fader_picks_up_the_crossfader_and_morphs_the_decks(controller: TestController, midi: MidiInputs,
                                                                 engine: Engine) -> None:
    specs = engine.specs()
    a = engine.preset.resolved(specs)
    b = engine.presets.load(B, specs).resolved(specs)
    engine.load_deck(B)
    assert move(controller, midi, engine, 90) == 0.0, "pickup: far from the value, the fader does nothing"
    assert move(controller, midi, engine, 1) == pytest.approx(1 / 127), "caught near 0"
    assert move(controller, midi, engine, 64) == pytest.approx(64 / 127)
    expected = morph(specs, a, b, 64 / 127)
    for name in ("sim.dieback", "synth.density", "synth.scale", "shader.mural.reveal"):
        assert engine.bank.get(name) == pytest.approx(expected[name]), name
    assert engine.look_mix() == ("festival", "mural", pytest.approx(64 / 127))
    assert move(controller, midi, engine, 127) == 1.0 and engine.current_preset().name == B
    # the show (or the UI, or OSC) moves the fader: the hardware must catch it again
    engine.load_deck("kai-3-surge")
    engine.bank.set(CROSSFADER, 0.0, "osc")
    engine.step()
    assert move(controller, midi, engine, 120) == 0.0
    assert move(controller, midi, engine, 2) == pytest.approx(2 / 127)


def test_a_fader_moves_its_parameter_at_once_past_the_parameters_smoothing(controller: TestController,
                                                                           midi: MidiInputs, engine: Engine) -> None:
    spec = engine.bank.spec("render.exposure")  # APC mini fader 1 (CC 48), pickup
    assert spec.smoothing_s > 0
    count = received(midi)
    for value in range(0, 124, 4):  # a sweep through the value engages pickup
        controller.send(0xB0, 48, value)
    wait_for(lambda: received(midi) >= count + 31, 10, "the sweep to arrive")
    send_through(controller, midi, 0xB0, 48, 124)  # the sweep's last, and all before it, posted
    engine.step()
    send_through(controller, midi, 0xB0, 48, 20)
    engine.step()
    assert engine.bank.get("render.exposure") == pytest.approx(spec.from_normalized(20 / 127))
