"""The JACK server itself killed and restarted mid-show: MIDI comes back, nothing crashes.

Uses a private jackd (not the session's), because killing it is the point.
"""

from __future__ import annotations

import uuid

import pytest

from installation.core.events import InputQueue
from installation.core.params import ParamBank, float_param
from installation.inputs.midi import MidiInputs
from installation.inputs.midi_ports import JackServerWatch, abandon
from installation.midi.bindings import Binding, Control, ControlType, Takeover, Target
from installation.midi.profile import Profile
from tests import services
from tests.midi_rig import Applier, TestController, wait_for


def test_midi_survives_a_jackd_restart(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"myco-midi-restart-{uuid.uuid4().hex[:6]}"
    jack = services.start_jack(name)
    for key, value in jack.env().items():
        monkeypatch.setenv(key, value)
    try:
        controller = TestController()
        bank, queue = ParamBank(), InputQueue()
        bank.register(float_param("render.exposure", 1.0, 0.0, 4.0))
        app = Applier(queue, bank)
        profile = Profile("t", controller.name, (Binding(Control(ControlType.CC, None, 7),
                                                         Target.param("render.exposure"), takeover=Takeover.JUMP),))
        midi = MidiInputs(queue, bank, [profile], pattern=controller.name)
        midi.start()
        try:
            wait_for(midi.open_ports)
            controller.send(0xB0, 7, 127)
            app.until(lambda: bank.get("render.exposure") == 4.0)
            services.stop(jack.process)
            wait_for(lambda: not midi.open_ports(), timeout=8)  # the server check runs every second
            for handle in (controller.out, controller.inp):
                abandon(handle)  # the test controller's handles died with the server too
            jack = services.start_jack(name)
            controller.plug()
            wait_for(midi.open_ports, timeout=8)
            controller.send(0xB0, 7, 0)
            app.until(lambda: bank.get("render.exposure") == 0.0)
            assert midi.status()["ports"][f"{controller.name}:out"]["open"]
        finally:
            midi.stop()
        controller.unplug()
    finally:
        services.stop(jack.process)


def test_the_server_watch_tells_a_live_server_from_a_killed_or_restarted_one(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"myco-watch-{uuid.uuid4().hex[:6]}"
    jack = services.start_jack(name)
    for key, value in jack.env().items():
        monkeypatch.setenv(key, value)
    try:
        watch = JackServerWatch()
        assert watch.available and watch.same_server()
        jack.process.kill()  # SIGKILL: the socket file stays behind, but nobody listens on it
        jack.process.wait(timeout=10)
        assert watch.path is not None and watch.path.exists()
        assert not watch.same_server()
        jack = services.start_jack(name)
        assert not watch.same_server(), "a restarted server is another server: our ports died with the old one"
        assert JackServerWatch().same_server()
    finally:
        services.stop(jack.process)
