"""The MIDI adapter against a real MIDI server: jackd -d dummy and rtmidi's JACK API.

A test controller on virtual JACK ports plays into Myco; parameters, events, commands,
learn, soft takeover, feedback and hot-plug are checked on the values that arrive.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import rtmidi

from installation.core.events import CommandInput, EventKind, InputQueue
from installation.core.params import ParamBank, bool_param, float_param
from installation.inputs import midi_ports
from installation.inputs.midi import MidiInputs
from installation.inputs.midi_ports import api_names
from installation.midi.bindings import Binding, ButtonMode, Control, ControlType, Takeover, Target
from installation.midi.params import param_specs as midi_param_specs
from installation.midi.profile import Profile, learned_path, load_learned
from tests.midi_rig import Applier, TestController, listening
from tests.services import Jack
from tests.waiting import wait_for


def make_bank() -> ParamBank:
    bank = ParamBank()
    bank.register_all(midi_param_specs())  # the MIDI layer's own (tempo, clock)
    bank.register(float_param("render.exposure", 1.0, 0.1, 4.0))
    bank.register(float_param("sim.growth_rate", 1.0, 0.0, 4.0))
    bank.register(bool_param("synth.mute", False))
    return bank


def profile_for(controller: TestController) -> Profile:
    cc = ControlType.CC
    return Profile("test", controller.name, (
        Binding(Control(cc, None, 7), Target.param("sim.growth_rate"), takeover=Takeover.JUMP),
        Binding(Control(cc, None, 16), Target.param("render.exposure"), takeover=Takeover.PICKUP, feedback=True),
        Binding(Control(ControlType.CC14, None, 1), Target.param("render.exposure"), takeover=Takeover.JUMP),
        Binding(Control(ControlType.NOTE, None, 60), Target.event("surge")),
        Binding(Control(ControlType.NOTE, None, 63), Target.event("bloom")),
        Binding(Control(ControlType.NOTE, 0, 82), Target.param("synth.mute"), button=ButtonMode.TOGGLE,
                feedback=True, led_on=1),
        Binding(Control(ControlType.PROGRAM, None, 2), Target.command("preset", "kai-3-surge")),
    ))


@pytest.fixture
def rig(controller: TestController) -> Iterator[tuple[MidiInputs, Applier]]:
    bank, queue = make_bank(), InputQueue()
    with listening(MidiInputs(queue, bank, [profile_for(controller)], pattern=controller.name), controller) as midi:
        yield midi, Applier(queue, bank)


def test_cc_14bit_notes_and_program_change(rig: tuple[MidiInputs, Applier], controller: TestController) -> None:
    midi, app = rig
    assert midi.api == "jack"
    controller.send(0xB0, 7, 127)
    app.until(lambda: app.bank.get("sim.growth_rate") == 4.0)
    controller.send(0xB0, 1, 0x40)
    controller.send(0xB0, 33, 0x11)
    app.until(lambda: app.bank.get("render.exposure") == pytest.approx(0.1 + 3.9 * ((0x40 << 7) | 0x11) / 16383))
    controller.send(0x90, 60, 127)
    controller.send(0x80, 60, 0)
    controller.send(0x99, 63, 32)
    app.until(lambda: len(app.events) == 2)
    assert [(e.kind, round(e.strength, 3)) for e in app.events] == [(EventKind.SURGE, 2.0),
                                                                    (EventKind.BLOOM, round(2 * 32 / 127, 3))]
    controller.send(0xC0, 2)
    app.until(lambda: app.commands)
    assert app.commands == [CommandInput("preset", "kai-3-surge", "midi")]
    status = midi.status()["ports"][f"{controller.name}:out"]
    assert status["received"] == 7 and status["dropped"] == 0 and status["open"]


def test_soft_takeover_does_not_jump(rig: tuple[MidiInputs, Applier], controller: TestController) -> None:
    midi, app = rig
    app.bank.set("render.exposure", 3.0, "preset")     # knob 16 is still at the bottom
    controller.send(0xB0, 16, 0)
    controller.send(0xB0, 16, 20)
    wait_for(lambda: midi.status()["ports"][f"{controller.name}:out"]["received"] >= 2, 10, "two messages received")
    app.drain()
    assert app.bank.get("render.exposure") == 3.0
    seen = []
    for value in range(80, 128, 2):
        controller.send(0xB0, 16, value)
        app.drain()
        seen.append(app.bank.get("render.exposure"))
    app.until(lambda: app.bank.get("render.exposure") == pytest.approx(0.1 + 3.9 * 126 / 127))
    steps = [abs(b - a) for a, b in zip([3.0, *seen], seen, strict=False)]  # type: ignore[operator]
    assert max(steps) < 3.9 * 4 / 127                    # no jump when it is picked up


def test_feedback_after_a_change_and_on_connect(rig: tuple[MidiInputs, Applier], controller: TestController) -> None:
    midi, app = rig
    wait_for(lambda: f"{controller.name}-01:in" in midi.status()["outputs"] or
             f"{controller.name}:in" in midi.status()["outputs"], 10, "the feedback output to open")
    first = controller.collect(2)                        # the full state, sent when the port opened
    assert [0xB0, 16, round((1.0 - 0.1) / 3.9 * 127)] in first and [0x90, 82, 0] in first
    app.bank.set("render.exposure", 4.0, "preset")
    app.bank.set("synth.mute", True, "ui")
    assert controller.collect(2) == [[0xB0, 16, 127], [0x90, 82, 1]]


def test_learn_end_to_end(rig: tuple[MidiInputs, Applier], controller: TestController, myco_home: Path) -> None:
    midi, app = rig
    midi.arm("param:sim.growth_rate")
    assert midi.status()["learning"] == "param:sim.growth_rate"
    controller.send(0xB3, 21, 30)
    wait_for(lambda: not midi.status()["learning"], 10, "learn to finish")
    saved = load_learned(learned_path())
    assert learned_path().is_relative_to(myco_home)
    assert [(b.control, b.target) for b in saved.bindings] == [(Control(ControlType.CC, 3, 21),
                                                                Target.param("sim.growth_rate"))]
    for value in range(28, 40):                          # pick-up: it catches 1.0 (CC 31.75) on the way
        controller.send(0xB3, 21, value)
    app.until(lambda: app.bank.get("sim.growth_rate") == pytest.approx(4.0 * 39 / 127))
    midi.clear("param:sim.growth_rate")
    assert load_learned(learned_path()).bindings == ()


def test_hot_plug_reconnects_within_two_seconds(rig: tuple[MidiInputs, Applier], controller: TestController) -> None:
    midi, app = rig
    port = f"{controller.name}:out"
    controller.unplug()
    wait_for(lambda: port not in midi.open_ports(), 10, "the unplugged port to close")
    controller.plug()
    wait_for(lambda: port in midi.open_ports(), 10, "the plugged-in port to reopen")
    controller.send(0xB0, 7, 0)
    app.until(lambda: app.bank.get("sim.growth_rate") == 0.0)
    assert midi.status()["ports"][port]["open"]


def test_api_fallback_notice_and_bad_api(jack_server: Jack) -> None:
    bank, queue = make_bank(), InputQueue()
    midi = MidiInputs(queue, bank, [], pattern="nothing-matches")
    midi.start()
    try:
        if "alsa" in api_names():
            # This machine has no ALSA sequencer: the default API fails and JACK takes over.
            assert midi.api == "jack" and "alsa" in midi.notice
    finally:
        midi.stop()
    explicit = MidiInputs(queue, bank, [], pattern="nothing-matches", api="jack")
    explicit.start()
    explicit.stop()
    assert explicit.api == "jack" and explicit.notice == ""
    with pytest.raises(ValueError, match="not available"):
        MidiInputs(queue, bank, [], api="carrier-pigeon").start()
    assert not [t for t in threading.enumerate() if t.name == "myco-midi"]


def test_a_jack_client_that_fails_to_open_on_a_running_server_is_opened_again(
        jack_server: Jack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    real = rtmidi.MidiOut
    failures = iter([True])

    def out_failing_once(*args: object, **kwargs: object) -> object:
        # what rtmidi raises when JACK's open misses one of its deadlines on a loaded machine
        if next(failures, False):
            raise rtmidi.SystemError("MidiOutJack::initialize: JACK server not running?")
        return real(*args, **kwargs)

    monkeypatch.setattr(midi_ports.rtmidi, "MidiOut", out_failing_once)
    probe_in, probe_out, api, notice = midi_ports.open_probe("jack")
    try:
        assert api == "jack" and notice == ""
        assert "trying again" in caplog.text
    finally:
        probe_in.delete()
        probe_out.delete()
    # with no server there is nothing to wait for: the open fails at once
    caplog.clear()
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "myco-no-such-server")
    with pytest.raises((rtmidi.SystemError, rtmidi.RtMidiError)):
        midi_ports._open_probe_clients("jack", api_names()["jack"])
    assert "trying again" not in caplog.text


def test_two_controllers_at_once_and_sysex(jack_server: Jack) -> None:
    first, second = TestController(), TestController()
    bank, queue = make_bank(), InputQueue()
    app = Applier(queue, bank)
    profiles = [profile_for(first),
                Profile("second", second.name, (Binding(Control(ControlType.CC, None, 7),
                                                        Target.param("render.exposure"), takeover=Takeover.JUMP),))]
    midi = MidiInputs(queue, bank, profiles, pattern=f"{first.name}|{second.name}")
    midi.start()
    try:
        wait_for(lambda: len(midi.open_ports()) == 2, 10, "both controllers' ports to open")
        first.send(0xB0, 7, 0)                   # the same CC, a different profile for each controller
        second.send(0xB0, 7, 127)
        first.send(0xF0, 0x42, 0x40, 0x00, 0x01, 0x13, 0x00, 0xF7)  # a SysEx (a KORG identity reply)
        app.until(lambda: bank.get("sim.growth_rate") == 0.0 and bank.get("render.exposure") == 4.0)
        ports = midi.status()["ports"]
        wait_for(lambda: midi.status()["ports"][f"{first.name}:out"]["received"] == 2, 10,
                 "two messages from the first controller")
        assert ports[f"{second.name}:out"]["received"] == 1
        assert midi.status()["ports"][f"{first.name}:out"]["unmapped"] == 0  # SysEx is not an error either
    finally:
        midi.stop()
        first.unplug()
        second.unplug()
