"""What one control on a controller does: the binding, as data.

A binding ties one *control* (message type, channel, number) to one *target* (a
parameter, an event or a command) and says how to get there: range, curve, invert,
relative encoding, smoothing, soft takeover and feedback. Profiles (TOML files in
``presets/midi/``), MIDI learn and a preset's ``[midi]`` table all produce these values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from installation.core.commands import COMMAND_NAMES, SPECS, Command, check_argument
from installation.core.events import EventKind
from installation.core.params import NAME_PATTERN
from installation.core.tempo import LAUNCHES


class ControlType(StrEnum):
    CC = "cc"
    CC14 = "cc14"
    NRPN = "nrpn"
    NOTE = "note"
    PITCHBEND = "pitchbend"
    AFTERTOUCH = "aftertouch"
    POLY_AFTERTOUCH = "poly_aftertouch"
    PROGRAM = "program"

    @property
    def resolution(self) -> int:
        """The largest raw value of the control."""
        return 16383 if self in (ControlType.CC14, ControlType.NRPN, ControlType.PITCHBEND) else 127

    @property
    def has_number(self) -> bool:
        return self not in (ControlType.PITCHBEND, ControlType.AFTERTOUCH)


class TargetKind(StrEnum):
    PARAM = "param"
    EVENT = "event"
    COMMAND = "command"


class Curve(StrEnum):
    LINEAR = "linear"
    LOG = "log"
    EXP = "exp"


class Relative(StrEnum):
    """How an endless encoder encodes a step (absolute controls have none)."""

    TWOS_COMPLEMENT = "twos_complement"  # 1..63 up, 127..65 down (-1..-63)
    BINARY_OFFSET = "binary_offset"      # 65..127 up, 63..0 down; 64 is no move
    SIGN_MAGNITUDE = "sign_magnitude"    # bit 6 set means down, low 6 bits the size

    def decode(self, value: int) -> int:
        value &= 0x7F
        if self is Relative.TWOS_COMPLEMENT:
            return value - 128 if value >= 64 else value
        if self is Relative.BINARY_OFFSET:
            return value - 64
        magnitude = value & 0x3F
        return -magnitude if value & 0x40 else magnitude


class Takeover(StrEnum):
    """What an absolute control does when it disagrees with the parameter's value."""

    JUMP = "jump"      # the parameter jumps to the control
    PICKUP = "pickup"  # the control does nothing until it passes the parameter's value
    SCALE = "scale"    # the control moves the parameter proportionally until they meet


class ButtonMode(StrEnum):
    """How a button (note or CC) drives a parameter."""

    MOMENTARY = "momentary"  # pressed is the top of the range, released the bottom
    TOGGLE = "toggle"        # each press flips between the ends of the range
    VALUE = "value"          # the raw value (velocity, CC value) is a position like a fader



# The shape of the log and exp curves: e**K - 1 is the ratio between the steepest and
# flattest part, a taper like an audio potentiometer's.
_CURVE_K = 3.0


def apply_curve(curve: Curve, position: float) -> float:
    """Map a control position 0..1 onto 0..1 with the binding's curve."""
    position = min(1.0, max(0.0, position))
    if curve is Curve.EXP:
        return (math.exp(_CURVE_K * position) - 1.0) / (math.exp(_CURVE_K) - 1.0)
    if curve is Curve.LOG:
        return math.log1p(position * (math.exp(_CURVE_K) - 1.0)) / _CURVE_K
    return position


def invert_curve(curve: Curve, output: float) -> float:
    """The control position that :func:`apply_curve` maps onto ``output`` (for feedback)."""
    if curve is Curve.EXP:
        return apply_curve(Curve.LOG, output)
    if curve is Curve.LOG:
        return apply_curve(Curve.EXP, output)
    return min(1.0, max(0.0, output))


@dataclass(frozen=True)
class Target:
    """Where a control goes: a parameter name, an event kind or a command (with argument)."""

    kind: TargetKind
    name: str
    argument: str = ""
    at: str = ""  # a launch (act, preset) lands on the next "beat" or "bar", or "now"; "": tempo.quantize

    def __post_init__(self) -> None:
        if self.kind is TargetKind.PARAM and not NAME_PATTERN.match(self.name):
            raise ValueError(f"{self.name!r} is not a parameter name like 'render.glow'")
        if self.kind is TargetKind.EVENT:
            EventKind(self.name)
        elif self.kind is TargetKind.COMMAND:
            if self.name not in COMMAND_NAMES:
                raise ValueError(f"unknown command {self.name!r} (expected one of: {', '.join(COMMAND_NAMES)})")
            check_argument(Command(self.name), self.argument)
        if self.at and not (self.kind is TargetKind.COMMAND and Command(self.name) in LAUNCHES):
            raise ValueError(f"only {', '.join(sorted(LAUNCHES))} wait for a beat or bar")

    @property
    def state(self) -> str:
        """The parameter that holds a command target's state (its LED follows it), or ""."""
        return SPECS[Command(self.name)].state if self.kind is TargetKind.COMMAND else ""

    @property
    def shown(self) -> str:
        """The parameter whose value a feedback control shows: a parameter target's own, or a
        command's state; "" when there is none."""
        return self.name if self.kind is TargetKind.PARAM else self.state

    def __str__(self) -> str:
        suffix = f" {self.argument}" if self.argument else ""
        return f"{self.kind.value}:{self.name}{suffix}"

    @classmethod
    def param(cls, name: str) -> Target:
        return cls(TargetKind.PARAM, name)

    @classmethod
    def event(cls, name: str) -> Target:
        return cls(TargetKind.EVENT, name)

    @classmethod
    def command(cls, name: str, argument: str = "") -> Target:
        return cls(TargetKind.COMMAND, name, argument)


@dataclass(frozen=True)
class Control:
    """A physical control: message type, channel 0..15 (None: any) and number."""

    type: ControlType
    channel: int | None
    number: int = 0

    def matches(self, other: Control) -> bool:
        return (self.type is other.type and self.number == other.number
                and (self.channel is None or other.channel is None or self.channel == other.channel))

    def __str__(self) -> str:
        channel = "any" if self.channel is None else str(self.channel + 1)
        number = f" {self.number}" if self.type.has_number else ""
        return f"{self.type.value}{number} ch {channel}"


@dataclass(frozen=True)
class Binding:
    """One control bound to one target, with its feel."""

    control: Control
    target: Target
    range: tuple[float, float] | None = None   # in the parameter's units (events: strength)
    curve: Curve = Curve.LINEAR
    invert: bool = False
    relative: Relative | None = None
    step: float = 1.0 / 127.0                  # relative: normalised change per encoder click
    smoothing_s: float = 0.0
    takeover: Takeover = Takeover.PICKUP
    button: ButtonMode = ButtonMode.VALUE
    feedback: bool = False
    led_on: int = 127                          # feedback value of an "on" button
    led_off: int = 0
    x: float | None = None                     # events: where on the canvas
    y: float | None = None
    port: str = ""                             # learned bindings: the port they were learned on


def parse_target(text: str) -> Target:
    """``param:render.glow``, ``event:surge`` or ``command:preset dawn`` as a :class:`Target`."""
    kind, _, rest = text.strip().partition(":")
    name, _, argument = rest.strip().partition(" ")
    try:
        return Target(TargetKind(kind), name, argument.strip())
    except ValueError as error:
        raise ValueError(f"{text!r} is not a target like 'param:render.glow', 'event:surge' or "
                         f"'command:next_act' ({error})") from None
