"""The JACK server itself killed and restarted mid-show: MIDI comes back, nothing crashes.

Uses a private jackd (not the session's), because killing it is the point.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from installation.core.events import InputQueue
from installation.core.params import ParamBank, float_param
from installation.inputs.midi import MidiInputs
from installation.inputs.midi_ports import JackServerWatch, abandon
from installation.midi.bindings import Binding, Control, ControlType, Takeover, Target
from installation.midi.profile import Profile
from tests import services
from tests.midi_rig import Applier, TestController
from tests.waiting import wait_for


class PrivateJack:
    """A jackd of the test's own, named in the environment; ``restart`` starts it again by that name."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.name = f"myco-midi-restart-{uuid.uuid4().hex[:6]}"
        self.jack = services.start_jack(self.name)
        for key, value in self.jack.env().items():
            monkeypatch.setenv(key, value)

    def restart(self) -> None:
        self.jack = services.start_jack(self.name)


@pytest.fixture
def private_jack(monkeypatch: pytest.MonkeyPatch) -> Iterator[PrivateJack]:
    server = PrivateJack(monkeypatch)
    try:
        yield server
    finally:
        services.stop(server.jack.process)


def test_midi_survives_a_jackd_restart(private_jack: PrivateJack) -> None:
    controller = TestController()
    bank, queue = ParamBank(), InputQueue()
    bank.register(float_param("render.exposure", 1.0, 0.0, 4.0))
    app = Applier(queue, bank)
    profile = Profile("t", controller.name, (Binding(Control(ControlType.CC, None, 7),
                                                     Target.param("render.exposure"), takeover=Takeover.JUMP),))
    midi = MidiInputs(queue, bank, [profile], pattern=controller.name)
    midi.start()
    try:
        wait_for(midi.open_ports, 3, "the controller's port to open")
        controller.send(0xB0, 7, 127)
        app.until(lambda: bank.get("render.exposure") == 4.0)
        services.stop(private_jack.jack.process)
        wait_for(lambda: not midi.open_ports(), 8, "the ports to close with the server (checked every second)")
        for handle in (controller.out, controller.inp):
            abandon(handle)  # the test controller's handles died with the server too
        private_jack.restart()
        controller.plug()
        wait_for(midi.open_ports, 8, "the ports to reopen on the new server")
        controller.send(0xB0, 7, 0)
        app.until(lambda: bank.get("render.exposure") == 0.0)
        assert midi.status()["ports"][f"{controller.name}:out"]["open"]
    finally:
        midi.stop()
    controller.unplug()


def test_the_server_watch_tells_a_live_server_from_a_killed_or_restarted_one(private_jack: PrivateJack) -> None:
    watch = JackServerWatch()
    assert watch.available and watch.same_server()
    private_jack.jack.process.kill()  # SIGKILL: the socket file stays behind, but nobody listens on it
    private_jack.jack.process.wait(timeout=10)
    assert watch.path is not None and watch.path.exists()
    assert not watch.same_server()
    private_jack.restart()
    assert not watch.same_server(), "a restarted server is another server: our ports died with the old one"
    assert JackServerWatch().same_server()
