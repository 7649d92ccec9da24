"""MIDI byte parsing: complete messages, byte streams, and fuzzing of the whole mapping layer."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from installation.midi.bindings import Binding, ButtonMode, Control, ControlType, Relative, Takeover, Target
from installation.midi.messages import Kind, Message, StreamParser, parse
from tests.core.midi_helpers import Rig
from tests.fuzzing import fuzz


def test_parse_channel_messages() -> None:
    assert parse([0xB3, 7, 100]) == Message(Kind.CC, 3, 7, 100)
    assert parse([0x90, 60, 0]) == Message(Kind.NOTE_OFF, 0, 60, 0)  # velocity 0 is a note-off
    assert parse([0x91, 60, 99]) == Message(Kind.NOTE_ON, 1, 60, 99)
    assert parse([0xE0, 0x7F, 0x7F]) == Message(Kind.PITCHBEND, 0, 0, 16383)
    assert parse([0xC2, 5]) == Message(Kind.PROGRAM, 2, 5, 5)
    assert parse([0xD0, 77]) == Message(Kind.AFTERTOUCH, 0, 0, 77)
    assert parse([0xA0, 61, 40]) == Message(Kind.POLY_AFTERTOUCH, 0, 61, 40)
    assert parse([0xF8]) == Message(Kind.CLOCK)


def test_parse_rejects_malformed() -> None:
    for bad in ([], [7, 1], [0xB0, 7], [0xB0, 7, 200], [0xF0, 1, 2], [0xB0, 7, 1, 2], [0xF8, 1], [0xB0, 7, -1]):
        assert parse(bad) is None, bad
    assert parse([0xF0, 0x42, 0x10, 0xF7]) == Message(Kind.SYSEX, value=4)


def test_stream_running_status_and_interleaved_realtime() -> None:
    parser = StreamParser()
    messages = parser.feed([0xB0, 1, 10, 2, 0xF8, 20, 0x90, 60, 100, 61, 0])
    assert messages == [Message(Kind.CC, 0, 1, 10), Message(Kind.CLOCK), Message(Kind.CC, 0, 2, 20),
                        Message(Kind.NOTE_ON, 0, 60, 100), Message(Kind.NOTE_OFF, 0, 61, 0)]


def test_stream_truncated_and_sysex() -> None:
    parser = StreamParser()
    messages = parser.feed([0xB0, 7, 0xF0, 1, 2, 3, 0xF7, 5, 0xC0, 9])
    assert messages == [Message(Kind.SYSEX, value=5), Message(Kind.PROGRAM, 0, 9, 9)]
    assert parser.discarded == 2  # the cut CC's data byte, and the stray 5 after the SysEx


def test_router_recovers_messages_packed_with_running_status() -> None:
    rig = Rig([Binding(Control(ControlType.CC, None, 7), Target.param("render.glow"), takeover=Takeover.JUMP),
               Binding(Control(ControlType.NOTE, None, 60), Target.event("bloom"))])
    rig.send(0xB0, 7, 10, 7, 127, 0x90, 60, 100)  # two CCs by running status, then a note, in one packet
    assert rig.value("render.glow") == 2.0
    assert [e.kind.value for e in rig.events] == ["bloom"]
    rig.send(0xB0, 7)                                # cut short: nothing to recover, counted
    assert rig.router.counts[rig.port].dropped == 1


FUZZ_BINDINGS = [
    Binding(Control(ControlType.CC, None, 1), Target.param("render.glow"), takeover=Takeover.SCALE, smoothing_s=0.05),
    Binding(Control(ControlType.CC14, None, 2), Target.param("synth.decay"), takeover=Takeover.PICKUP),
    Binding(Control(ControlType.NRPN, None, 300), Target.param("synth.octave"), takeover=Takeover.JUMP),
    Binding(Control(ControlType.CC, None, 20), Target.param("render.glow"), relative=Relative.SIGN_MAGNITUDE),
    Binding(Control(ControlType.NOTE, None, 60), Target.event("surge")),
    Binding(Control(ControlType.NOTE, None, 61), Target.param("synth.mute"), button=ButtonMode.TOGGLE, feedback=True),
    Binding(Control(ControlType.PROGRAM, None, 3), Target.command("preset", "dawn")),
    Binding(Control(ControlType.PITCHBEND, None, 0), Target.param("render.glow"), feedback=True),
    Binding(Control(ControlType.AFTERTOUCH, None, 0), Target.command("tap_tempo")),
]


@fuzz(300)
@given(st.lists(st.integers(0, 255), max_size=200))
def test_fuzz_byte_streams_through_the_mapping(stream: list[int]) -> None:
    rig = Rig(FUZZ_BINDINGS)
    parser = StreamParser()
    for message in parser.feed(stream):
        rig.apply(rig.router.handle(rig.port, _bytes_of(message, stream), rig.t))
    # Raw chunks as a port would deliver them (complete or not): never a crash, bad ones counted.
    for start in range(0, len(stream), 3):
        rig.send(*stream[start:start + 3])
    rig.tick(0.1)
    rig.router.feedback()
    counts = rig.router.counts[rig.port]
    assert counts.received >= counts.dropped
    assert 0.0 <= float(rig.value("render.glow")) <= 2.0  # type: ignore[arg-type]


def _bytes_of(message: Message, stream: list[int]) -> list[int]:
    """Rebuild raw bytes for a parsed message (enough for the router to parse it again)."""
    table = {Kind.CC: 0xB0, Kind.NOTE_ON: 0x90, Kind.NOTE_OFF: 0x80, Kind.POLY_AFTERTOUCH: 0xA0}
    if message.kind in table:
        return [table[message.kind] | message.channel, message.number, message.value]
    if message.kind is Kind.PITCHBEND:
        return [0xE0 | message.channel, message.value & 0x7F, message.value >> 7]
    if message.kind is Kind.PROGRAM:
        return [0xC0 | message.channel, message.number]
    if message.kind is Kind.CLOCK:
        return [0xF8]
    return stream[:1]


@fuzz(200)
@given(st.lists(st.lists(st.integers(-5, 300), max_size=6), max_size=40))
def test_fuzz_arbitrary_lists(messages: list[list[int]]) -> None:
    rig = Rig(FUZZ_BINDINGS)
    for message in messages:
        rig.send(*message)
    rig.tick(1.0)
    assert rig.router.counts[rig.port].received == len(messages)
