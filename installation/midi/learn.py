"""MIDI learn: arm a target, move a control, and the control is bound to it.

The learner recognises the control from the messages it sends: a CC below 32 followed
at once by the same CC + 32 is a 14-bit control; CC 99/98 followed by data entry is an
NRPN; a note-on is a button (a toggle for a true/false parameter); pitch bend,
aftertouch and program change are themselves. Clock, SysEx and note-offs are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from installation.midi.bindings import Binding, ButtonMode, Control, ControlType, Takeover, Target, TargetKind
from installation.midi.messages import Kind, Message

PAIR_WINDOW_S = 0.08  # how long to wait for the LSB (CC+32) or NRPN data after the first CC


@dataclass
class _Pending:
    port: str
    channel: int
    number: int
    t: float
    nrpn: dict[int, int]


class Learner:
    """Turns the next control that moves into a binding for the armed target."""

    def __init__(self) -> None:
        self.target: Target | None = None
        self.toggle_params: frozenset[str] = frozenset()
        self._pending: _Pending | None = None

    @property
    def armed(self) -> bool:
        return self.target is not None

    def arm(self, target: Target, toggle: bool = False) -> None:
        """Arm ``target``; ``toggle`` makes a learned button flip a true/false parameter."""
        self.target = target
        self.toggle_params = frozenset({target.name}) if toggle else frozenset()
        self._pending = None

    def cancel(self) -> None:
        self.target = None
        self._pending = None

    def offer(self, port: str, message: Message, t: float) -> Binding | None:
        """Show the learner a message; returns the binding when one is learned."""
        if self.target is None:
            return None
        pending = self._pending
        if message.kind is Kind.CC:
            return self._offer_cc(port, message, t)
        if pending is not None and (message.is_realtime or message.kind is Kind.SYSEX):
            return None
        if message.kind is Kind.NOTE_ON:
            return self._finish(port, Control(ControlType.NOTE, message.channel, message.number))
        simple = {Kind.PITCHBEND: ControlType.PITCHBEND, Kind.AFTERTOUCH: ControlType.AFTERTOUCH,
                  Kind.POLY_AFTERTOUCH: ControlType.POLY_AFTERTOUCH, Kind.PROGRAM: ControlType.PROGRAM}
        if message.kind in simple:
            number = message.number if simple[message.kind].has_number else 0
            return self._finish(port, Control(simple[message.kind], message.channel, number))
        return None

    def tick(self, t: float) -> Binding | None:
        """Finish a plain CC once no partner message followed it."""
        pending = self._pending
        if pending is None or t - pending.t < PAIR_WINDOW_S:
            return None
        if pending.nrpn:
            self._pending = None
            return None
        return self._finish(pending.port, Control(ControlType.CC, pending.channel, pending.number))

    def _offer_cc(self, port: str, message: Message, t: float) -> Binding | None:
        pending = self._pending
        channel, number, value = message.channel, message.number, message.value
        if pending is not None and pending.port == port and pending.channel == channel:
            if pending.nrpn or number in (99, 98):
                pending.nrpn[number] = value
                if number in (6, 38) and 99 in pending.nrpn and 98 in pending.nrpn:
                    nrpn = (pending.nrpn[99] << 7) | pending.nrpn[98]
                    return self._finish(port, Control(ControlType.NRPN, channel, nrpn))
                return None
            if number == pending.number + 32 and pending.number < 32:
                return self._finish(port, Control(ControlType.CC14, channel, pending.number))
            if number == pending.number:
                return None  # the same knob still moving: wait for the window to pass
        if pending is not None:
            # Another control moved before the window closed: the first one was a plain CC.
            return self._finish(pending.port, Control(ControlType.CC, pending.channel, pending.number))
        self._pending = _Pending(port, channel, number, t, {number: value} if number in (99, 98) else {})
        return None

    def _finish(self, port: str, control: Control) -> Binding | None:
        target = self.target
        if target is None:
            return None
        self.cancel()
        button = ButtonMode.VALUE
        if target.kind is TargetKind.PARAM and target.name in self.toggle_params:
            button = ButtonMode.TOGGLE
        return Binding(control, target, takeover=Takeover.PICKUP, button=button,
                       feedback=target.kind is TargetKind.PARAM, port=port)
