"""Wire formats as pure functions: OSC message values and MQTT JSON payloads to plain data, and back.

The adapters (``installation.inputs``) only move bytes; everything here is tested and fuzzed
without a socket. Each function returns the decoded value or a :class:`Rejection`.
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from installation.core.commands import COMMAND_NAMES, SPECS, Argument, Command, Quantum
from installation.core.events import CommandInput, Event, EventKind, Input, ParamInput
from installation.core.frames import NodeReading
from installation.core.params import NAME_PATTERN
from installation.core.tempo import LAUNCHES
from installation.nodes.validate import MAX_FIELDS, Rejection, valid_id

MAX_PACKET_BYTES = 1024
MAX_BATCH_BYTES = 65536  # an MQTT batch message: up to MAX_BATCH_READINGS readings
MAX_BATCH_READINGS = 512
NODE_PREFIX = "/myco/node/"
PARAM_PREFIX = "/myco/param/"
EVENT_PREFIX = "/myco/event/"
PRESET_ADDRESS = "/myco/preset"
COMMAND_PREFIX = "/myco/command/"
MQTT_TOPIC = re.compile(r"^myco/nodes/([^/]*)$")
BATCH_ID = "batch"  # myco/nodes/batch carries many nodes' readings; no node may be called so
PRESET_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
POSITIONAL = ("potential_mv", "toxin", "waste", "moisture", "x", "y")


@dataclass(frozen=True)
class NodeValues:
    """Values for one node, still to be validated (see :func:`installation.nodes.validate.validate`)."""

    node: str
    values: dict[object, object]


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def decode_osc(address: str, args: Sequence[object]) -> NodeValues | Input | Rejection:
    """One OSC message (address and arguments as python-osc decodes them)."""
    if address.startswith(NODE_PREFIX):
        return _osc_node(address[len(NODE_PREFIX):], args)
    if address.startswith(PARAM_PREFIX):
        name = address[len(PARAM_PREFIX):]
        if not NAME_PATTERN.match(name):
            return Rejection("unknown_address", f"parameter name {name[:60]!r}")
        if len(args) != 1 or not isinstance(args[0], (int, float, str, bool)):
            return Rejection("wrong_type", "a parameter takes exactly one number, boolean or string")
        if isinstance(args[0], float) and not math.isfinite(args[0]):
            return Rejection("not_finite", name)
        return ParamInput(name, args[0], "osc")
    if address.startswith(EVENT_PREFIX):
        return _osc_event(address[len(EVENT_PREFIX):], args)
    if address.startswith(COMMAND_PREFIX):
        return _osc_command(address[len(COMMAND_PREFIX):], args)
    if address == PRESET_ADDRESS:
        args, at = _launch_at(Command.PRESET, args)
        if len(args) != 1 or not isinstance(args[0], str) or not PRESET_NAME.match(args[0]):
            return Rejection("wrong_type", "/myco/preset takes one preset name (then beat or bar to wait for)")
        return CommandInput(Command.PRESET, args[0], "osc", at=at)
    return Rejection("unknown_address", address[:80])


def _launch_at(command: Command, args: Sequence[object]) -> tuple[Sequence[object], str]:
    """A launch's last argument may be ``now``, ``beat`` or ``bar`` (when it lands): (the rest, it)."""
    takes_argument = SPECS[command].argument is not Argument.NONE
    if (command in LAUNCHES and args and isinstance(args[-1], str) and args[-1] in tuple(Quantum)
            and len(args) == 1 + takes_argument):
        return args[:-1], str(args[-1])
    return args, ""


def _osc_command(name: str, args: Sequence[object]) -> Input | Rejection:
    """``/myco/command/<name> [argument] [now|beat|bar]``: a switch takes 1/0 (or on/off), jump_act an
    act number; acts and presets may end with when they land."""
    spec = SPECS[Command(name)] if name in COMMAND_NAMES else None
    if spec is None or spec.midi_only:
        return Rejection("unknown_address", f"command {name[:40]!r}")
    args, at = _launch_at(spec.command, args)
    if len(args) > 1:
        return Rejection("wrong_type", "a command takes at most one argument")
    argument = args[0] if args else ""
    if isinstance(argument, bool):
        argument = "on" if argument else "off"
    elif isinstance(argument, (int, float)):
        if not math.isfinite(argument):
            return Rejection("not_finite", name)
        if spec.argument is Argument.SWITCH:
            argument = "on" if argument >= 0.5 else "off"
        else:
            argument = str(int(argument))
    elif not isinstance(argument, str):
        return Rejection("wrong_type", "a command's argument is a string or a number")
    try:
        return CommandInput(spec.command, argument, "osc", at=at)
    except ValueError as error:
        return Rejection("wrong_type", str(error)[:120])


def _osc_node(node: str, args: Sequence[object]) -> NodeValues | Rejection:
    if not valid_id(node):
        return Rejection("bad_id", node[:40])
    if not args:
        return Rejection("missing_field", "no values")
    if len(args) > 2 * MAX_FIELDS:
        return Rejection("oversize", f"{len(args)} arguments")
    if isinstance(args[0], str):  # named: name, value, name, value, ...
        if len(args) % 2:
            return Rejection("malformed", "named values come in name, value pairs")
        names, values = args[0::2], args[1::2]
        if not all(isinstance(name, str) for name in names):
            return Rejection("wrong_type", "every other argument must be a field name")
        if len(set(names)) != len(names):
            return Rejection("malformed", "a field is named twice")
        return NodeValues(node, dict(zip(names, values, strict=True)))
    if len(args) > len(POSITIONAL) or len(args) == 5:
        return Rejection("malformed", "positional values: potential, toxin, waste, moisture[, x, y]")
    return NodeValues(node, dict(zip(POSITIONAL, args, strict=False)))


def _osc_event(kind_name: str, args: Sequence[object]) -> Event | Rejection:
    try:
        kind = EventKind(kind_name)
    except ValueError:
        return Rejection("unknown_address", f"event kind {kind_name[:40]!r}")
    node = None
    numbers: list[float] = []
    for arg in args:
        if isinstance(arg, str) and node is None and valid_id(arg):
            node = arg
        elif _number(arg):
            numbers.append(float(arg))  # type: ignore[arg-type]
        else:
            return Rejection("wrong_type", "event arguments: [strength [x y]] and an optional node id")
    if len(numbers) not in (0, 1, 3):
        return Rejection("malformed", "event arguments: [strength [x y]]")
    if not all(math.isfinite(n) for n in numbers):
        return Rejection("not_finite", kind_name)
    strength = numbers[0] if numbers else 1.0
    x, y = (numbers[1], numbers[2]) if len(numbers) == 3 else (None, None)
    if not 0 <= strength <= 4 or (x is not None and not (0 <= x <= 1 and 0 <= y <= 1)):  # type: ignore[operator]
        return Rejection("out_of_range", "strength 0..4, x and y 0..1")
    return Event(kind, strength=strength, x=x, y=y, node=node, source="osc")


def decode_mqtt(topic: str, payload: bytes) -> list[NodeValues] | Rejection:
    """``myco/nodes/<id>`` with a JSON object of named values, or ``myco/nodes/batch`` with a JSON
    object of them by node id (``{"n001": {"potential_mv": 0.2}, "n002": {...}}``)."""
    match = MQTT_TOPIC.match(topic)
    if match is None:
        return Rejection("unknown_address", topic[:80])
    node = match.group(1)
    if not valid_id(node):
        return Rejection("bad_id", node[:40])
    batch = node == BATCH_ID
    if len(payload) > (MAX_BATCH_BYTES if batch else MAX_PACKET_BYTES):
        return Rejection("oversize", f"{len(payload)} bytes")
    try:
        data = json.loads(payload.decode("utf-8"), parse_constant=_reject_constant)
    except _NotFinite:
        return Rejection("not_finite", "NaN or Infinity in JSON")
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        return Rejection("malformed", str(error)[:80])
    if not isinstance(data, dict):
        return Rejection("wrong_type", "the payload must be a JSON object")
    if not batch:
        return [NodeValues(node, data)]
    if len(data) > MAX_BATCH_READINGS:
        return Rejection("oversize", f"{len(data)} readings in a batch (at most {MAX_BATCH_READINGS})")
    if not all(isinstance(values, dict) for values in data.values()):
        return Rejection("wrong_type", "a batch maps node ids to JSON objects of values")
    return [NodeValues(name, values) for name, values in data.items()]


_OSC_NUMBERS = {"i": struct.Struct(">i"), "f": struct.Struct(">f"), "d": struct.Struct(">d"), "h": struct.Struct(">q")}
_OSC_CONSTANTS = {"T": True, "F": False}
_BUNDLE = b"#bundle\0"


def parse_osc(data: bytes) -> list[tuple[str, list[object]]] | None:
    """The messages of an OSC packet (a message or a bundle, nested or not) whose arguments are
    all ints, floats, doubles, 64-bit ints, strings or booleans: the readings' fast path, which
    makes no object per message. None for anything else (another type, a packet we cannot read):
    the listener hands those to the general parser, which decodes or rejects them."""
    out: list[tuple[str, list[object]]] = []
    try:
        return out if _parse_osc_into(data, out) else None
    except (ValueError, struct.error, UnicodeDecodeError):
        return None


def _osc_string(data: bytes, at: int) -> tuple[str, int]:
    end = data.index(b"\0", at)
    return data[at:end].decode(), (end // 4 + 1) * 4  # strings end in 1-4 NULs, to a multiple of 4


def _parse_osc_into(data: bytes, out: list[tuple[str, list[object]]]) -> bool:
    if data.startswith(_BUNDLE):
        at = 16  # after the time tag (ignored: everything is applied on arrival)
        while at < len(data):
            (size,) = _OSC_NUMBERS["i"].unpack_from(data, at)
            if size <= 0 or size % 4 or at + 4 + size > len(data):
                return False
            if not _parse_osc_into(data[at + 4:at + 4 + size], out):
                return False
            at += 4 + size
        return True
    if not data.startswith(b"/") or len(data) % 4:
        return False
    address, at = _osc_string(data, 0)
    tags, at = _osc_string(data, at)
    if not tags.startswith(","):
        return False
    args: list[object] = []
    for tag in tags[1:]:
        number = _OSC_NUMBERS.get(tag)
        if number is not None:
            args.append(number.unpack_from(data, at)[0])
            at += number.size
        elif tag == "s":
            text, at = _osc_string(data, at)
            args.append(text)
        elif tag in _OSC_CONSTANTS:
            args.append(_OSC_CONSTANTS[tag])
        else:
            return False
    if at != len(data):
        return False
    out.append((address, args))
    return True


def reading_values(reading: NodeReading) -> dict[str, float]:
    """The values a reading carries (those measured, and the position if it has one)."""
    values = {name: float(getattr(reading, name)) for name in POSITIONAL[:4]
              if not math.isnan(getattr(reading, name))}
    if reading.x is not None and reading.y is not None:
        values.update(x=reading.x, y=reading.y)
    return values


def encode_osc(reading: NodeReading) -> tuple[str, list[object]]:
    """A reading as a node would send it over OSC: ``/myco/node/<id>`` with named values."""
    return NODE_PREFIX + reading.node, [item for pair in reading_values(reading).items() for item in pair]


def encode_mqtt(reading: NodeReading) -> tuple[str, bytes]:
    """A reading as a node would publish it over MQTT: ``myco/nodes/<id>`` and a JSON object."""
    return f"myco/nodes/{reading.node}", json.dumps(reading_values(reading)).encode()


class _NotFinite(ValueError):
    pass


def _reject_constant(name: str) -> float:
    raise _NotFinite(name)
