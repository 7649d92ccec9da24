"""The pure mapping layer: MIDI messages of one controller in, Myco inputs out.

A :class:`Mapper` holds one controller's bindings and the state the messages need
(14-bit MSB/LSB pairs, NRPN selection, button toggles, soft takeover, smoothing glides)
and turns each :class:`~installation.midi.messages.Message` into
:class:`~installation.core.events.ParamInput`, :class:`~installation.core.events.Event`
and :class:`~installation.core.events.CommandInput` values. MIDI bytes go no further.

Parameter values are handled in the parameter's normalised space (its own curve applies),
and emitted as absolute values so the engine needs nothing MIDI-specific.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from installation.core.commands import Command
from installation.core.events import CommandInput, Event, EventKind, Input, ParamInput
from installation.core.params import Kind, ParamSpec, Value
from installation.midi.bindings import (
    Binding,
    ButtonMode,
    Control,
    ControlType,
    TargetKind,
    apply_curve,
    invert_curve,
)
from installation.midi.messages import Kind as MessageKind
from installation.midi.messages import Message
from installation.midi.takeover import TakeoverState

SOURCE = "midi"
EVENT_RANGE = (0.0, 2.0)  # velocity 127 -> strength 2; a medium hit is about 1, the default
NRPN_CCS = {99, 98, 101, 100, 6, 38, 96, 97}
GLIDE_DONE = 1e-4

SpecLookup = Callable[[str], "ParamSpec | None"]
ValueLookup = Callable[[str], "Value | None"]


@dataclass
class _Glide:
    current: float
    target: float
    time_s: float
    last_t: float


@dataclass
class _Nrpn:
    number_msb: int = -1
    number_lsb: int = -1
    data_msb: int = 0
    selected: bool = False


class Mapper:
    """One controller's bindings, applied to its messages."""

    def __init__(self, bindings: Sequence[Binding], spec_of: SpecLookup, value_of: ValueLookup) -> None:
        self._spec_of = spec_of
        self._value_of = value_of
        self._known: dict[str, float] = {}
        self._msb: dict[tuple[int, int], int] = {}
        self._nrpn: dict[int, _Nrpn] = {}
        self._pressed: dict[Control, bool] = {}
        self._glides: dict[Binding, _Glide] = {}
        self._takeover: dict[Binding, TakeoverState] = {}
        self.last_sent: dict[str, Value] = {}
        self.unmapped = 0
        self.bindings: tuple[Binding, ...] = ()
        self.set_bindings(bindings)

    def set_bindings(self, bindings: Sequence[Binding]) -> None:
        """Replace the bindings; earlier ones win when two bind the same control."""
        self.bindings = tuple(bindings)
        self._takeover = {b: self._takeover.get(b) or TakeoverState(b.takeover) for b in self.bindings}
        self._glides = {b: g for b, g in self._glides.items() if b in self._takeover}
        self._uses_nrpn = any(b.control.type is ControlType.NRPN for b in self.bindings)

    # -- parameter values in normalised space ---------------------------------------------
    def normalized(self, name: str) -> float | None:
        """The parameter's value (0..1) as this mapper knows it."""
        if name in self._known:
            return self._known[name]
        spec, value = self._spec_of(name), self._value_of(name)
        if spec is None or value is None or spec.kind is Kind.COLOR:
            return None
        return spec.to_normalized(value)

    def external(self, name: str, value: Value) -> None:
        """Someone else (UI, preset, show, another controller) set ``name``: re-arm takeover."""
        spec = self._spec_of(name)
        if spec is None or spec.kind is Kind.COLOR:
            return
        self._known[name] = spec.to_normalized(value)
        for binding, state in self._takeover.items():
            if binding.target.name == name and binding.target.kind is TargetKind.PARAM:
                state.release()
                self._glides.pop(binding, None)

    # -- messages ---------------------------------------------------------------------------
    def handle(self, message: Message, now: float) -> list[Input]:
        """The inputs one message causes (often none)."""
        found = self._control_value(message)
        if found is None:
            return []
        control, raw, delta = found
        out: list[Input] = []
        matched = False
        for binding in self.bindings:
            if binding.control.matches(control):
                matched = True
                out.extend(self._apply(binding, control, raw, delta, now))
        if not matched:
            self.unmapped += 1
        return out

    def tick(self, now: float) -> list[Input]:
        """Advance smoothing glides; call often (every few milliseconds)."""
        out: list[Input] = []
        for binding, glide in list(self._glides.items()):
            dt = max(0.0, now - glide.last_t)
            glide.last_t = now
            glide.current += (glide.target - glide.current) * (1.0 - math.exp(-dt / glide.time_s))
            if abs(glide.target - glide.current) < GLIDE_DONE:
                glide.current = glide.target
                del self._glides[binding]
            out.extend(self._emit_param(binding.target.name, glide.current, direct=True))
        return out

    def _control_value(self, message: Message) -> tuple[Control, int, int] | None:
        """(control, raw value, relative step) of a message, assembling 14-bit and NRPN."""
        kind, channel = message.kind, message.channel
        if kind in (MessageKind.NOTE_ON, MessageKind.NOTE_OFF):
            # A note-off's release velocity (often 64) is not a press.
            value = message.value if kind is MessageKind.NOTE_ON else 0
            return Control(ControlType.NOTE, channel, message.number), value, 0
        if kind is MessageKind.PITCHBEND:
            return Control(ControlType.PITCHBEND, channel, 0), message.value, 0
        if kind is MessageKind.AFTERTOUCH:
            return Control(ControlType.AFTERTOUCH, channel, 0), message.value, 0
        if kind is MessageKind.POLY_AFTERTOUCH:
            return Control(ControlType.POLY_AFTERTOUCH, channel, message.number), message.value, 0
        if kind is MessageKind.PROGRAM:
            return Control(ControlType.PROGRAM, channel, message.number), 127, 0
        if kind is not MessageKind.CC:
            return None
        number, value = message.number, message.value
        if self._uses_nrpn and number in NRPN_CCS:
            return self._nrpn_value(channel, number, value)
        if number < 32 and self._has(ControlType.CC14, number):
            self._msb[(channel, number)] = value  # a new MSB resets the LSB (MIDI 1.0 spec)
            return Control(ControlType.CC14, channel, number), value << 7, 0
        if 32 <= number < 64 and self._has(ControlType.CC14, number - 32):
            msb = self._msb.get((channel, number - 32), 0)
            return Control(ControlType.CC14, channel, number - 32), (msb << 7) | value, 0
        return Control(ControlType.CC, channel, number), value, 0

    def _has(self, control_type: ControlType, number: int) -> bool:
        return any(b.control.type is control_type and b.control.number == number for b in self.bindings)

    def _nrpn_value(self, channel: int, number: int, value: int) -> tuple[Control, int, int] | None:
        state = self._nrpn.setdefault(channel, _Nrpn())
        if number == 99:
            state.number_msb, state.selected = value, True
        elif number == 98:
            state.number_lsb, state.selected = value, True
        elif number in (101, 100):
            state.selected = False  # an RPN was selected instead
        elif state.selected and state.number_msb >= 0 and state.number_lsb >= 0:
            control = Control(ControlType.NRPN, channel, (state.number_msb << 7) | state.number_lsb)
            if number == 6:
                state.data_msb = value
                return control, value << 7, 0
            if number == 38:
                return control, (state.data_msb << 7) | value, 0
            return control, -1, 1 if number == 96 else -1
        return None

    # -- applying a binding -------------------------------------------------------------------
    def _apply(self, binding: Binding, control: Control, raw: int, delta: int, now: float) -> list[Input]:
        target = binding.target
        press = self._press(binding, control, raw)
        if target.kind is TargetKind.COMMAND:
            return [CommandInput(Command(target.name), target.argument, SOURCE, at=target.at)] if press else []
        if target.kind is TargetKind.EVENT:
            if not press:
                return []
            low, high = binding.range or EVENT_RANGE
            position = apply_curve(binding.curve, raw / control.type.resolution)
            if binding.invert:
                position = 1.0 - position
            return [Event(EventKind(target.name), now, low + (high - low) * position, binding.x, binding.y,
                          source=SOURCE)]
        return self._apply_param(binding, control, raw, delta, press, now)

    def _press(self, binding: Binding, control: Control, raw: int) -> bool:
        """True on the press edge of a button-like message (note on, CC rising from 0)."""
        if control.type is ControlType.PROGRAM:
            return True
        was = self._pressed.get(control, False)
        if raw < 0:
            return False
        down = raw > 0 if control.type is ControlType.NOTE or binding.button is ButtonMode.VALUE else raw >= 64
        self._pressed[control] = down
        return down and not was

    def _apply_param(self, binding: Binding, control: Control, raw: int, delta: int, press: bool,
                     now: float) -> list[Input]:
        name = binding.target.name
        spec = self._spec_of(name)
        current = self.normalized(name)
        if spec is None or current is None:
            self.unmapped += 1
            return []
        low, high = self._normalized_range(binding, spec)
        position = self._control_position(binding, current, low, high)
        if binding.relative is not None or raw < 0:
            step = binding.relative.decode(raw) if binding.relative is not None else delta
            step = -step if binding.invert else step
            lo, hi = min(low, high), max(low, high)
            return self._to(binding, min(hi, max(lo, current + step * binding.step)), now, direct=True)
        if binding.button is ButtonMode.TOGGLE:
            if not press:
                return []
            return self._to(binding, low if position >= 0.5 else high, now)
        if binding.button is ButtonMode.MOMENTARY:
            if raw > 0 and not press and control.type is ControlType.NOTE:
                return []
            return self._to(binding, high if self._pressed.get(control) else low, now)
        if control.type is ControlType.NOTE and raw == 0:
            return []  # a note-off of a velocity-sensitive pad leaves the value where it is
        wanted = raw / control.type.resolution
        wanted = apply_curve(binding.curve, 1.0 - wanted if binding.invert else wanted)
        moved = self._takeover[binding].move(wanted, position)
        if moved is None:
            return []
        return self._to(binding, low + (high - low) * moved, now, direct=True)

    @staticmethod
    def _normalized_range(binding: Binding, spec: ParamSpec) -> tuple[float, float]:
        if binding.range is None:
            return 0.0, 1.0
        low, high = (spec.to_normalized(spec.coerce(end)[0]) for end in binding.range)
        return low, high

    @staticmethod
    def _control_position(binding: Binding, current: float, low: float, high: float) -> float:
        """Where the parameter's value lies in the binding's control space (after its curve)."""
        return (current - low) / (high - low) if high != low else 0.0

    def _to(self, binding: Binding, normalized: float, now: float, direct: bool = False) -> list[Input]:
        """Move ``binding``'s parameter; ``direct`` for a fader, knob or encoder: the hand is the
        smoothing, so the parameter's own (meant for jumps: presets, OSC, buttons) is skipped."""
        name = binding.target.name
        for other, state in self._takeover.items():
            if other is not binding and other.target == binding.target:
                state.release()  # a second control on the same parameter must catch it again
        if binding.smoothing_s > 0.0:
            start = self._glides[binding].current if binding in self._glides else self.normalized(name)
            self._glides[binding] = _Glide(start if start is not None else normalized, normalized,
                                           binding.smoothing_s, now)
            return []
        return self._emit_param(name, normalized, direct)

    def _emit_param(self, name: str, normalized: float, direct: bool = False) -> list[Input]:
        spec = self._spec_of(name)
        if spec is None:
            return []
        value = spec.from_normalized(normalized)
        self._known[name] = min(1.0, max(0.0, normalized))
        self.last_sent[name] = value
        return [ParamInput(name, value, SOURCE, fade_s=0.0 if direct else None)]

    # -- feedback ------------------------------------------------------------------------------
    def feedback_position(self, binding: Binding, value: Value) -> float | None:
        """Where the binding's control should stand (0..1) to show ``value``."""
        spec = self._spec_of(binding.target.name)
        if spec is None or spec.kind is Kind.COLOR:
            return None
        low, high = self._normalized_range(binding, spec)
        position = self._control_position(binding, spec.to_normalized(value), low, high)
        if binding.button is not ButtonMode.VALUE:
            return 1.0 if position >= 0.5 else 0.0
        position = invert_curve(binding.curve, position)
        return 1.0 - position if binding.invert else position
