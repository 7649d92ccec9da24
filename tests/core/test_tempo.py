"""The show's tempo: the beat timeline, who leads, taps, the bank, quantised boundaries."""

from __future__ import annotations

from pathlib import Path

import pytest

from installation.core.commands import Command
from installation.core.errors import LoadError
from installation.core.events import CommandInput
from installation.core.params import ParamBank
from installation.core.tempo import BPM, FOLLOW, QUIET_S, RUNNING, Follow, Quantum, Source, Tempo, param_specs
from installation.midi.bindings import Target, TargetKind
from installation.midi.profile import load_profile
from installation.nodes.codec import decode_osc
from installation.nodes.validate import Rejection


def test_beat_timeline_is_exact_between_steps_and_continuous_across_a_change() -> None:
    tempo = Tempo(120.0, t=10.0)
    assert tempo.beat_at(10.0) == 0.0
    assert tempo.beat_at(10.001) == pytest.approx(0.002)  # 120 BPM: 2 beats a second, to the millisecond
    assert tempo.beat_at(11.25) == pytest.approx(2.5)
    position = tempo.position(10.0 + 4.75 * 0.5)  # beat 4.75: bar 1, its first beat, three quarters in
    assert (position.bar, position.beat_in_bar, position.phase) == (1, 0, pytest.approx(0.75))
    tempo.set_bpm(60.0, 12.0)  # at beat 4
    assert tempo.beat_at(12.0) == pytest.approx(4.0)
    assert tempo.beat_at(13.0) == pytest.approx(5.0)
    assert tempo.time_at(6.0) == pytest.approx(14.0)
    assert tempo.source is Source.INTERNAL


def test_next_boundary_of_beat_and_bar() -> None:
    tempo = Tempo(120.0, beats_per_bar=3)
    assert tempo.next_boundary(0.6, Quantum.BEAT) == 2.0    # beat 1.2 -> 2
    assert tempo.next_boundary(0.6, Quantum.BAR) == 3.0     # bars of three
    assert tempo.next_boundary(1.5, Quantum.BAR) == 3.0     # on the line: this one
    assert tempo.next_boundary(0.6, Quantum.NOW) == pytest.approx(1.2)


def test_midi_leads_in_auto_then_falls_quiet_and_runs_free() -> None:
    tempo = Tempo(120.0)
    assert tempo.offer(Source.MIDI, 1.0, 133.0, beat=8.0)
    assert (tempo.source, tempo.bpm, tempo.beat_at(1.0)) == (Source.MIDI, 133.0, 8.0)
    assert not tempo.set_bpm(90.0, 1.1)  # a running clock wins over the operator
    assert not tempo.offer(Source.LINK, 1.2, 100.0)  # and over Link
    assert tempo.bpm == 133.0
    assert tempo.settle(1.2 + QUIET_S + 0.01) is Source.INTERNAL  # both quiet: the tempo runs on
    assert tempo.bpm == 133.0
    assert tempo.beat_at(4.0) == pytest.approx(8.0 + 3.0 * 133.0 / 60.0)
    assert tempo.set_bpm(90.0, 4.0)


def test_follow_picks_the_source() -> None:
    tempo = Tempo(120.0, follow=Follow.LINK)
    assert not tempo.offer(Source.MIDI, 1.0, 133.0)
    assert tempo.offer(Source.LINK, 1.0, 100.0, beat=2.0)
    assert tempo.source is Source.LINK
    assert tempo.set_bpm(110.0, 1.1)  # a manual change to a Link session is the session's
    assert (tempo.source, tempo.bpm, tempo.manual_changes) == (Source.LINK, 110.0, 1)
    tempo.set_follow(Follow.MANUAL)
    assert not tempo.offer(Source.LINK, 1.2, 100.0)
    assert tempo.settle(1.2) is Source.INTERNAL


def test_taps_set_tempo_and_put_the_last_tap_on_a_beat() -> None:
    tempo = Tempo(120.0)
    taps = [5.0 + i * 0.6 for i in range(4)]  # 100 BPM
    results = [tempo.tap(t) for t in taps]
    assert results[0] is None
    assert results[-1] == pytest.approx(100.0)
    assert tempo.source is Source.TAP
    assert tempo.beat_at(taps[-1]) == pytest.approx(round(tempo.beat_at(taps[-1])))
    assert tempo.beat_at(taps[-1] + 0.6) == pytest.approx(tempo.beat_at(taps[-1]) + 1.0)
    assert tempo.tap(taps[-1] + 10.0) is None  # a pause starts over


def test_bank_follows_the_tempo_and_the_operator_sets_it() -> None:
    bank = ParamBank()
    bank.register_all(param_specs())
    tempo = Tempo(120.0)
    bank.set(BPM, 90.0, "ui", immediate=True)
    tempo.follow_bank(bank, 1.0)
    assert tempo.bpm == 90.0
    tempo.offer(Source.MIDI, 2.0, 133.333, beat=0.0)
    tempo.follow_bank(bank, 2.0)
    assert bank.get(BPM) == pytest.approx(133.33)
    bank.set(FOLLOW, "manual", "ui", immediate=True)
    bank.set(RUNNING, False, "ui", immediate=True)
    tempo.follow_bank(bank, 2.1)
    assert (tempo.follow, tempo.running, tempo.source) == (Follow.MANUAL, False, Source.INTERNAL)
    with pytest.raises(ValueError, match="finite"):
        tempo.set_bpm(float("nan"), 3.0)


def test_launch_option_from_osc() -> None:
    assert decode_osc("/myco/command/next_act", ["bar"]) == CommandInput(Command.NEXT_ACT, "", "osc", at="bar")
    assert decode_osc("/myco/command/jump_act", [2, "beat"]) == CommandInput(Command.JUMP_ACT, "2", "osc", at="beat")
    assert decode_osc("/myco/preset", ["dawn", "bar"]) == CommandInput(Command.PRESET, "dawn", "osc", at="bar")
    assert decode_osc("/myco/command/preset", ["bar"]) == CommandInput(Command.PRESET, "bar", "osc")  # a name
    assert isinstance(decode_osc("/myco/command/blackout", [1, "bar"]), Rejection)  # not a launch


def test_launch_option_in_a_midi_profile(tmp_path: Path) -> None:
    path = tmp_path / "pads.toml"
    path.write_text('[controller]\nname = "Pads"\nport = "pads"\n\n'
                    '[[binding]]\ntype = "note"\nnumber = 36\ncommand = "next_act"\nat = "bar"\n\n'
                    '[[binding]]\ntype = "note"\nnumber = 37\ncommand = "next_act"\nat = "soon"\n\n'
                    '[[binding]]\ntype = "note"\nnumber = 38\ncommand = "blackout"\nat = "beat"\n')
    with pytest.raises(LoadError) as raised:
        load_profile(path)
    assert str(raised.value).splitlines() == [
        f"{path}:15: binding[1].at: 'soon' is not one of: now, beat, bar",
        f"{path}:21: binding[2].at: only jump_act, next_act, preset, previous_act wait for a beat or bar"]
    path.write_text('[controller]\nname = "Pads"\nport = "pads"\n\n'
                    '[[binding]]\ntype = "note"\nnumber = 36\ncommand = "next_act"\nat = "bar"\n')
    assert load_profile(path).bindings[0].target == Target(TargetKind.COMMAND, "next_act", at="bar")
