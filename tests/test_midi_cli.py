"""``myco midi list`` and ``myco midi monitor`` against a real JACK MIDI port."""

from __future__ import annotations

import threading
import time

import pytest

from installation.cli import main
from installation.midi.profile import learned_path, load_learned
from tests.midi_rig import TestController
from tests.services import Jack
from tests.waiting import wait_for


def test_midi_list_shows_ports_and_profiles(jack_server: Jack, capsys: pytest.CaptureFixture[str]) -> None:
    controller = TestController("nanoKONTROL2")
    try:
        assert main(["midi", "list", "--midi-api", "jack"]) == 0
    finally:
        controller.unplug()
    out = capsys.readouterr().out
    assert "using jack" in out
    assert "nanoKONTROL2:out  [Korg nanoKONTROL2]" in out
    assert "nanoKONTROL2-01:in" in out


def test_midi_monitor_prints_messages_and_mapping(jack_server: Jack, capsys: pytest.CaptureFixture[str]) -> None:
    controller = TestController("APC MINI")

    def play() -> None:
        wait_for(controller.listened_to, 12, "the monitor to connect to the controller")
        controller.send(0x90, 59, 127)  # top grid row, pad 4: a surge

    player = threading.Thread(target=play)
    player.start()
    try:
        # time to connect: a fresh quiet run once needed more than 5 s (docs: the closing note of stop 22)
        started = time.monotonic()
        assert main(["midi", "monitor", "APC", "--seconds", "20", "--count", "1"]) == 0
        stopped_after = time.monotonic() - started
    finally:
        player.join()
        controller.unplug()
    out = capsys.readouterr().out
    assert "90 3b 7f  note_on ch 1 59 127" in out
    assert "-> event surge strength 1.50" in out
    # --count 1: it stopped at the first message and what it maps to, not at --seconds
    assert out.rstrip().endswith("-> event surge strength 1.50") and stopped_after < 19.0, (stopped_after, out)


def test_midi_learn_and_forget_from_the_command_line(jack_server: Jack, capsys: pytest.CaptureFixture[str]) -> None:
    controller = TestController()

    def turn() -> None:
        wait_for(controller.listened_to, 5, "learn to connect to the controller")
        controller.send(0xB2, 21, 64)

    knob = threading.Thread(target=turn)
    knob.start()
    try:
        assert main(["midi", "learn", "param:render.exposure", controller.name, "--seconds", "5"]) == 0
    finally:
        knob.join()
        controller.unplug()
    out = capsys.readouterr().out
    assert "learned: cc 21 ch 3 -> param:render.exposure" in out
    saved = load_learned(learned_path())
    assert [str(b.target) for b in saved.bindings] == ["param:render.exposure"]
    assert main(["midi", "forget", "param:render.exposure"]) == 0
    assert load_learned(learned_path()).bindings == ()
    assert main(["midi", "learn", "param:render.nothing", "--seconds", "0.1"]) == 1
    assert "unknown parameter" in capsys.readouterr().out
