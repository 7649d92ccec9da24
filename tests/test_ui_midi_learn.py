"""MIDI learn end to end: the learn button in the app, a test controller on real JACK MIDI ports."""

from __future__ import annotations

import pytest

from tests.appkit import pump, start_app, stop_app
from tests.midi_rig import TestController
from tests.services import Jack


def test_learn_button_binds_a_controller_knob(qt_session: object, jack_server: Jack) -> None:
    controller = TestController()
    app = start_app(midi=controller.name, midi_api="jack")
    try:
        midi = app.runtime.part("midi")
        assert midi is not None and pump(5, lambda: bool(midi.open_ports())), "controller port not opened"
        bank = app.runtime.engine.bank
        row = app.params.rows["sim.growth_rate"]
        row.learn.click()
        assert midi.status()["learning"] == "param:sim.growth_rate"
        controller.send(0xB2, 74, 64)  # the operator turns a knob: CC 74 on channel 3
        assert pump(5, lambda: not row.learn.isChecked()), "learn did not finish"
        for value in [*range(20, 127, 3), 127]:  # soft takeover picks the value up on the way (1.0 = CC 32)
            controller.send(0xB2, 74, value)
            pump(0.02)
        spec = bank.spec("sim.growth_rate")
        assert pump(5, lambda: bank.target("sim.growth_rate") == pytest.approx(spec.maximum, rel=0.02))
        assert bank.source("sim.growth_rate") == "midi"
        pump(0.3)
        assert row.source_label.text() == "midi"
        assert "MIDI:" in app.health.midi.text() and controller.name in app.health.midi.text()
    finally:
        stop_app(app)
        controller.unplug()
