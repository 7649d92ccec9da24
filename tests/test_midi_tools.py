"""MIDI from JACK's own tools (jack_midiseq, jack_midi_clock) and preset recall through the engine."""

from __future__ import annotations

import itertools
import statistics
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from installation.core.events import EventKind, InputQueue
from installation.core.params import ParamBank
from installation.core.paths import UserDirs
from installation.engine import Engine
from installation.inputs.midi import MidiInputs
from installation.midi.bindings import Binding, ButtonMode, Control, ControlType, Takeover, Target
from installation.midi.clock import PPQN
from installation.midi.params import param_specs
from installation.midi.profile import Profile
from installation.registry import build_bank
from tests.midi_rig import Applier, TestController
from tests.services import Jack, require, stop
from tests.waiting import wait_for


@pytest.fixture
def transport(jack_server: Jack) -> Iterator[None]:
    """JACK transport rolling (jack_midi_clock only ticks while it rolls); stopped afterwards."""
    binary = require("jack_transport")
    subprocess.run([binary], input=b"play\n", capture_output=True, timeout=10, check=True)
    yield
    subprocess.run([binary], input=b"stop\n", capture_output=True, timeout=10, check=True)


def test_jack_midiseq_notes_fire_events(jack_server: Jack) -> None:
    name = f"seq{uuid.uuid4().hex[:6]}"
    profile = Profile("seq", name, (Binding(Control(ControlType.NOTE, None, 60), Target.event("surge")),
                                    Binding(Control(ControlType.NOTE, None, 63), Target.event("bloom"))))
    queue = InputQueue()
    app = Applier(queue, ParamBank())
    # Half a second loop at 48 kHz: C4 at the start, D#4 a quarter second later (velocity 64).
    sequencer = subprocess.Popen([require("jack_midiseq"), name, "24000", "0", "60", "8000", "12000", "63", "8000"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        short_path: list[object] = []  # what AudioEngine.push_event would get, before any engine tick
        with MidiInputs(queue, app.bank, [profile], pattern=name, on_event=short_path.append):
            app.until(lambda: len(app.events) >= 6, timeout=5)
    finally:
        stop(sequencer)
    assert short_path[:6] == app.events[:6]
    kinds = [e.kind for e in app.events[:6]]
    assert set(kinds) == {EventKind.SURGE, EventKind.BLOOM}
    assert all(a != b for a, b in itertools.pairwise(kinds))  # they alternate, as sequenced
    assert all(e.strength == pytest.approx(2.0 * 64 / 127) for e in app.events)


def fitted_bpm(ticks: list[float], beats: int = 4) -> float:
    """Least squares over the last ``beats`` of tick times (endpoints alone carry JACK's period jitter)."""
    window = ticks[-beats * PPQN:]
    return 60.0 / (statistics.linear_regression(range(len(window)), window).slope * PPQN)


def test_jack_midi_clock_is_followed_at_120_and_133_bpm(transport: None) -> None:
    """jack_midi_clock's ticks arrive as the dummy driver delivers them: on a loaded machine its
    clock runs slow against the wall clock (measured here: 106-132 BPM for a nominal 133). So the
    tempo is checked against the nominal one while JACK keeps time, and always against what the
    ticks that arrived say (fitted independently here, from the same ticks)."""
    bank = ParamBank()
    bank.register_all(param_specs())
    queue = InputQueue()
    app = Applier(queue, bank)
    ticks: list[float] = []

    def tick(port: str, data: list[int], t: float) -> None:
        if data == [0xF8]:
            ticks.append(t)

    with MidiInputs(queue, bank, [], pattern="jack_midi_clock", on_message=tick):
        for bpm in (120.0, 133.0):
            ticks.clear()
            clock = subprocess.Popen([require("jack_midi_clock"), "-b", str(bpm), "-B"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            followed, delivered = [], []
            try:
                # a new jack_midi_clock's port is found by the next hot-plug scan (once a second): on a
                # loaded machine its start, the scan and six beats of ticks took over 8 s
                app.until(lambda: bank.get("midi.clock_source") == "clock", timeout=20)
                # a full fit window (four beats) after the first estimate (made at two beats)
                app.until(lambda: len(ticks) >= (2 + 4) * PPQN, timeout=20)
                end = time.monotonic() + 2.0
                while time.monotonic() < end:  # then it stays on the tempo
                    app.drain()
                    followed.append(float(bank.get("midi.tempo_bpm")))  # type: ignore[arg-type]
                    delivered.append(fitted_bpm(ticks))
                    time.sleep(0.05)  # sampling what it follows over two seconds of clock: the time is the test
            finally:
                stop(clock)
            report = (bpm, [(round(d, 2), round(f, 2)) for d, f in zip(delivered, followed, strict=True)])
            assert len(ticks) > 8 * PPQN, report
            if abs(statistics.median(delivered) - bpm) < 0.25:  # JACK kept time: the nominal tempo
                assert abs(statistics.median(followed) - bpm) < 0.5, report
            assert max(abs(f - d) for f, d in zip(followed, delivered, strict=True)) < 0.5, report
            # the clock goes quiet (a second with no tick) before the next tempo
            app.until(lambda: bank.get("midi.clock_source") == "tap", timeout=5)


def test_preset_recall_sends_feedback_to_the_controller(jack_server: Jack, myco_home: Path) -> None:
    user = UserDirs.default().ensure()
    kai = Path(__file__).resolve().parent.parent / "presets" / "kai-1-living-city.toml"
    header = kai.read_text().split("[params]")[0]
    (user.presets / "midi-test.toml").write_text(
        header + '[params]\n"render.exposure" = 2.5\n"synth.mute" = true\n\n'
        '# this preset lends knob 17 to the growth rate\n[[midi.binding]]\ntype = "cc"\nnumber = 17\n'
        'param = "sim.growth_rate"\ntakeover = "jump"\n')
    engine = Engine.for_show("kai-festival", bank=build_bank())
    engine.bank.set("show.recall_crossfade", 0.0, "ui")
    controller = TestController()
    profile = Profile("ctl", controller.name, (
        Binding(Control(ControlType.PROGRAM, None, 5), Target.command("preset", "midi-test")),
        Binding(Control(ControlType.CC, 0, 16), Target.param("render.exposure"), takeover=Takeover.PICKUP,
                feedback=True),
        Binding(Control(ControlType.NOTE, 0, 82), Target.param("synth.mute"), button=ButtonMode.TOGGLE,
                feedback=True, led_on=1),
        # preset buttons: green (1) for the current preset, yellow (5) for the others
        Binding(Control(ControlType.NOTE, 0, 0), Target.command("preset", "kai-1-living-city"), feedback=True,
                led_on=1, led_off=5),
        Binding(Control(ControlType.NOTE, 0, 1), Target.command("preset", "midi-test"), feedback=True,
                led_on=1, led_off=5),
    ))
    try:
        with MidiInputs(engine.inputs, engine.bank, [profile], pattern=controller.name,
                        preset_of=lambda: engine.preset) as midi:
            wait_for(lambda: len(midi.status()["outputs"]) == 1, 3, "the feedback output to open")
            spec = engine.bank.spec("render.exposure")
            before = round(spec.to_normalized(engine.bank.get("render.exposure")) * 127)
            # on connect: every value, then the current preset's button lit once the MIDI thread has looked
            got = controller.collect(6)
            assert got[:2] == [[0xB0, 16, before], [0x90, 82, 0]], got
            assert got[-2:] == [[0x90, 0, 1], [0x90, 1, 5]], got
            controller.send(0xC0, 5)
            wait_for(lambda: engine.step() and engine.preset.name == "midi-test", 3, "the recalled preset")
            expected = [[0xB0, 16, round(spec.to_normalized(2.5) * 127)], [0x90, 82, 1], [0x90, 0, 5], [0x90, 1, 1]]
            got = controller.collect(4)
            assert sorted(got) == sorted(expected), got
            controller.send(0xB0, 17, 127)  # the preset's own binding now holds
            wait_for(lambda: engine.step() and engine.bank.get("sim.growth_rate") == 4.0, 3,
                     "the preset's own binding to move the growth rate")
    finally:
        controller.unplug()
