"""MIDI messages as plain values: parsing bytes, and building bytes for output.

The port wrapper hands raw byte lists to :func:`parse` (one complete message, as
python-rtmidi delivers them) or to :class:`StreamParser` (an arbitrary byte stream with
running status, interleaved real-time bytes, SysEx and truncated messages). Nothing here
raises on bad input: garbage becomes ``None`` and is counted by the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    NOTE_ON = "note_on"
    NOTE_OFF = "note_off"
    POLY_AFTERTOUCH = "poly_aftertouch"
    CC = "cc"
    PROGRAM = "program"
    AFTERTOUCH = "aftertouch"
    PITCHBEND = "pitchbend"
    SYSEX = "sysex"
    CLOCK = "clock"
    START = "start"
    CONTINUE = "continue"
    STOP = "stop"
    SONG_POSITION = "song_position"
    OTHER = "other"


# status high nibble -> (kind, number of data bytes)
_CHANNEL_KINDS: dict[int, tuple[Kind, int]] = {
    0x80: (Kind.NOTE_OFF, 2),
    0x90: (Kind.NOTE_ON, 2),
    0xA0: (Kind.POLY_AFTERTOUCH, 2),
    0xB0: (Kind.CC, 2),
    0xC0: (Kind.PROGRAM, 1),
    0xD0: (Kind.AFTERTOUCH, 1),
    0xE0: (Kind.PITCHBEND, 2),
}
# system common: status -> data bytes
_SYSTEM_COMMON = {0xF1: 1, 0xF2: 2, 0xF3: 1, 0xF6: 0}
_REALTIME = {0xF8: Kind.CLOCK, 0xFA: Kind.START, 0xFB: Kind.CONTINUE, 0xFC: Kind.STOP}
MAX_SYSEX = 4096


@dataclass(frozen=True)
class Message:
    """One decoded message. ``channel`` is 0..15 (-1 for system messages).

    ``number`` is the note, controller or program number; ``value`` the velocity,
    controller value, pressure, or the 14-bit pitch-bend value (0..16383, centre 8192).
    """

    kind: Kind
    channel: int = -1
    number: int = 0
    value: int = 0

    @property
    def is_realtime(self) -> bool:
        return self.kind in (Kind.CLOCK, Kind.START, Kind.CONTINUE, Kind.STOP)


def _channel_message(status: int, data: Sequence[int]) -> Message:
    kind, _ = _CHANNEL_KINDS[status & 0xF0]
    channel = status & 0x0F
    if kind is Kind.PITCHBEND:
        return Message(kind, channel, 0, data[0] | (data[1] << 7))
    if kind in (Kind.PROGRAM, Kind.AFTERTOUCH):
        return Message(kind, channel, data[0] if kind is Kind.PROGRAM else 0, data[0])
    if kind is Kind.NOTE_ON and data[1] == 0:
        # Note-on with velocity 0 is a note-off by the standard (running-status friendly).
        return Message(Kind.NOTE_OFF, channel, data[0], 0)
    return Message(kind, channel, data[0], data[1])


def parse(data: Sequence[int]) -> Message | None:
    """Decode one complete message; ``None`` for anything malformed or incomplete."""
    if not data:
        return None
    if any(isinstance(byte, bool) or not isinstance(byte, int) for byte in data):
        return None
    status = data[0]
    if not 0x80 <= status <= 0xFF:
        return None
    body = data[1:-1] if status == 0xF0 else data[1:]
    if any(not 0 <= byte <= 0x7F for byte in body):
        return None
    if status in _REALTIME:
        return Message(_REALTIME[status]) if len(data) == 1 else None
    if status == 0xF0:
        return Message(Kind.SYSEX, value=len(data)) if data[-1] == 0xF7 else None
    if status == 0xF2:
        return Message(Kind.SONG_POSITION, value=data[1] | (data[2] << 7)) if len(data) == 3 else None
    if status >= 0xF0:
        expected = _SYSTEM_COMMON.get(status, 0)
        return Message(Kind.OTHER, number=status) if len(data) == 1 + expected else None
    _, length = _CHANNEL_KINDS[status & 0xF0]
    if len(data) != 1 + length:
        return None
    return _channel_message(status, data[1:])


class StreamParser:
    """Turn an arbitrary byte stream into messages, the way a MIDI receiver must.

    Handles running status, real-time bytes anywhere (even inside other messages), SysEx of
    bounded length, and drops incomplete messages when a new status byte arrives. Counts
    the bytes it had to discard in :attr:`discarded`.
    """

    def __init__(self) -> None:
        self._running = 0
        self._data: list[int] = []
        self._sysex: int | None = None
        self.discarded = 0

    def feed(self, data: Iterable[int]) -> list[Message]:
        out: list[Message] = []
        for raw in data:
            byte = int(raw) & 0xFF
            if byte >= 0xF8:
                if byte in _REALTIME:
                    out.append(Message(_REALTIME[byte]))
                continue
            if byte == 0xF7:
                if self._sysex is not None:
                    out.append(Message(Kind.SYSEX, value=self._sysex + 2))
                else:
                    self.discarded += 1
                self._sysex = None
                continue
            if byte >= 0x80:
                self._start(byte, out)
                continue
            self._data_byte(byte, out)
        return out

    def _start(self, status: int, out: list[Message]) -> None:
        self.discarded += len(self._data) + (self._sysex or 0)
        self._data = []
        self._sysex = 0 if status == 0xF0 else None
        if status == 0xF0:
            self._running = 0
        elif status >= 0xF0:
            # System common cancels running status.
            self._running = status
            if _SYSTEM_COMMON.get(status, 0) == 0:
                out.append(Message(Kind.OTHER, number=status))
                self._running = 0
        else:
            self._running = status

    def _data_byte(self, byte: int, out: list[Message]) -> None:
        if self._sysex is not None:
            self._sysex += 1
            if self._sysex > MAX_SYSEX:
                self.discarded += self._sysex
                self._sysex = None
            return
        if not self._running:
            self.discarded += 1
            return
        self._data.append(byte)
        status = self._running
        length = _SYSTEM_COMMON.get(status, 0) if status >= 0xF0 else _CHANNEL_KINDS[status & 0xF0][1]
        if len(self._data) < length:
            return
        message = parse([status, *self._data])
        self._data = []
        if status >= 0xF0:
            self._running = 0
        if message is not None:
            out.append(message)


# -- building output messages ------------------------------------------------------------
def control_change(channel: int, number: int, value: int) -> list[int]:
    return [0xB0 | (channel & 0x0F), number & 0x7F, max(0, min(127, value))]


def note_on(channel: int, number: int, velocity: int) -> list[int]:
    return [0x90 | (channel & 0x0F), number & 0x7F, max(0, min(127, velocity))]


def pitch_bend(channel: int, value: int) -> list[int]:
    value = max(0, min(16383, value))
    return [0xE0 | (channel & 0x0F), value & 0x7F, value >> 7]
