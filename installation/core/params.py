"""The parameter bank: every controllable quantity of Myco, in one place.

Each part (the kernel, the renderer, each shader's header, the synth, the MIDI layer)
registers the parameters it owns as :class:`ParamSpec` values. Every source of change
(UI, MIDI, OSC, presets, shows) writes through :meth:`ParamBank.set` with its name, so the
source of the last change is known, out-of-range values are clamped with a logged reason,
and listeners are told. Numeric parameters glide towards their target with a per-parameter
smoothing time, advanced by the engine's fixed-step :meth:`ParamBank.tick`. Modulation
(:mod:`installation.core.modulation`) is a layer of offsets over those values, seen only in the
snapshot: the values set stay the base.

Readers on other threads take :meth:`ParamBank.snapshot`: an immutable mapping rebuilt
by the single writer and swapped in as one reference, so it is never torn. The audio
process gets the ``synth.*`` values that changed with each tick's frames, over its pipe.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import cast

log = logging.getLogger(__name__)

Color = tuple[float, float, float]
Value = float | int | bool | str | Color

# Segments after the first may hold upper case: ISF inputs keep their authors' GLSL names (isf.blur.blurAmount).
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[A-Za-z0-9_]+)+$")
SOURCES = ("default", "ui", "midi", "osc", "preset", "show", "api", "engine")


class Kind(StrEnum):
    FLOAT = "float"
    INT = "int"
    BOOL = "bool"
    ENUM = "enum"
    COLOR = "color"


class Curve(StrEnum):
    """How the normalised 0..1 side maps onto the range (as a fader or knob feels)."""

    LINEAR = "linear"
    LOG = "log"
    EXP = "exp"


def parse_color(value: object) -> Color:
    """Accept ``"#rrggbb"``, ``[r, g, b]`` in 0..1, and return floats in 0..1."""
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"#[0-9a-fA-F]{6}", text):
            return tuple(int(text[i : i + 2], 16) / 255.0 for i in (1, 3, 5))  # type: ignore[return-value]
        raise ValueError(f"color {value!r} is not '#rrggbb'")
    if isinstance(value, (list, tuple)) and len(value) == 3:
        channels = []
        for channel in value:
            if isinstance(channel, bool) or not isinstance(channel, (int, float)):
                raise ValueError(f"color channel {channel!r} is not a number")
            if not math.isfinite(channel):
                raise ValueError("color channel is not finite")
            channels.append(min(1.0, max(0.0, float(channel))))
        return (channels[0], channels[1], channels[2])
    raise ValueError(f"color {value!r} is neither '#rrggbb' nor [r, g, b]")


def color_hex(color: Color) -> str:
    return "#" + "".join(f"{round(min(1.0, max(0.0, c)) * 255):02x}" for c in color)


@dataclass(frozen=True)
class ParamSpec:
    """The declaration of one parameter: its type, range, default, unit and feel."""

    name: str
    kind: Kind
    default: Value
    minimum: float = 0.0
    maximum: float = 1.0
    unit: str = ""
    smoothing_s: float = 0.0
    description: str = ""
    choices: tuple[str, ...] = ()
    curve: Curve = Curve.LINEAR
    label: str = ""

    def __post_init__(self) -> None:
        if not NAME_PATTERN.match(self.name):
            raise ValueError(f"parameter name {self.name!r} must be dotted, lower_case first, e.g. 'sim.growth_rate'")
        if self.kind in (Kind.FLOAT, Kind.INT):
            if not (math.isfinite(self.minimum) and math.isfinite(self.maximum)) or self.minimum >= self.maximum:
                raise ValueError(f"{self.name}: range [{self.minimum}, {self.maximum}] is empty")
            if self.curve is not Curve.LINEAR and self.minimum <= 0:
                raise ValueError(f"{self.name}: a {self.curve.value} curve needs a positive minimum")
        if self.kind is Kind.ENUM and not self.choices:
            raise ValueError(f"{self.name}: an enum needs choices")
        if self.smoothing_s < 0:
            raise ValueError(f"{self.name}: smoothing must not be negative")
        value, reason = self.coerce(self.default)
        if reason:
            raise ValueError(f"{self.name}: default {self.default!r}: {reason}")
        object.__setattr__(self, "default", value)

    @property
    def owner(self) -> str:
        """The part that owns the parameter: the name up to its last dot."""
        return self.name.rsplit(".", 1)[0]

    @property
    def width(self) -> int:
        """How many floats the parameter takes in a numeric snapshot."""
        return 3 if self.kind is Kind.COLOR else 1

    def coerce(self, value: object) -> tuple[Value, str]:
        """Return the value this parameter would take, and why it differs ('' if it does not).

        Raises :class:`ValueError` for a value of the wrong type, which cannot be clamped.
        """
        if self.kind is Kind.BOOL:
            if isinstance(value, bool):
                return value, ""
            if isinstance(value, (int, float)) and value in (0, 1):
                return bool(value), ""
            raise ValueError(f"expected true or false, got {value!r}")
        if self.kind is Kind.ENUM:
            if isinstance(value, str) and value in self.choices:
                return value, ""
            raise ValueError(f"expected one of {', '.join(self.choices)}, got {value!r}")
        if self.kind is Kind.COLOR:
            return parse_color(value), ""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expected a number, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {value!r}")
        number: float | int = round(value) if self.kind is Kind.INT else float(value)
        if number < self.minimum:
            clamped = math.ceil(self.minimum) if self.kind is Kind.INT else self.minimum
            return clamped, f"{value!r} below minimum {self.minimum:g}, clamped"
        if number > self.maximum:
            clamped = math.floor(self.maximum) if self.kind is Kind.INT else self.maximum
            return clamped, f"{value!r} above maximum {self.maximum:g}, clamped"
        return number, ""

    def to_normalized(self, value: Value) -> float:
        """Map a value to 0..1 as a fader would show it."""
        if self.kind is Kind.BOOL:
            return 1.0 if value else 0.0
        if self.kind is Kind.ENUM:
            index = self.choices.index(str(value))
            return index / max(1, len(self.choices) - 1)
        if self.kind is Kind.COLOR:
            raise ValueError(f"{self.name}: a color has no single normalised value")
        number = float(value)  # type: ignore[arg-type]
        lo, hi = self.minimum, self.maximum
        if self.curve is Curve.LINEAR:
            return (number - lo) / (hi - lo)
        if self.curve is Curve.LOG:
            return math.log(number / lo) / math.log(hi / lo)
        return math.sqrt((number - lo) / (hi - lo))

    def from_normalized(self, position: float) -> Value:
        """Map 0..1 (a fader's position) to a value, clamped to the range."""
        position = min(1.0, max(0.0, float(position))) if math.isfinite(position) else 0.0
        if self.kind is Kind.BOOL:
            return position >= 0.5
        if self.kind is Kind.ENUM:
            return self.choices[min(len(self.choices) - 1, int(position * len(self.choices)))]
        if self.kind is Kind.COLOR:
            raise ValueError(f"{self.name}: a color has no single normalised value")
        lo, hi = self.minimum, self.maximum
        if self.curve is Curve.LINEAR:
            number = lo + position * (hi - lo)
        elif self.curve is Curve.LOG:
            number = lo * (hi / lo) ** position
        else:
            number = lo + position * position * (hi - lo)
        return self.coerce(number)[0]

    def shifted(self, value: Value, offset: float) -> Value:
        """``value`` moved by ``offset`` of the normalised range, clamped within the range (modulation);
        a color stays as it is (it has no single normalised value)."""
        if offset == 0.0 or self.kind is Kind.COLOR:
            return value
        return self.from_normalized(min(1.0, max(0.0, self.to_normalized(value) + offset)))

    def as_floats(self, value: Value) -> tuple[float, ...]:
        """The value as floats for a numeric snapshot or a shader uniform."""
        if self.kind is Kind.COLOR:
            return tuple(value)  # type: ignore[arg-type]
        if self.kind is Kind.ENUM:
            return (float(self.choices.index(str(value))),)
        return (float(value),)  # type: ignore[arg-type]

    def from_floats(self, numbers: Iterable[float]) -> Value:
        items = list(numbers)
        if self.kind is Kind.COLOR:
            return (items[0], items[1], items[2])
        if self.kind is Kind.ENUM:
            return self.choices[int(items[0])]
        if self.kind is Kind.BOOL:
            return items[0] >= 0.5
        if self.kind is Kind.INT:
            return int(items[0])
        return items[0]


def float_param(name: str, default: float, minimum: float, maximum: float, unit: str = "",
                description: str = "", smoothing_s: float = 0.0, curve: Curve = Curve.LINEAR,
                label: str = "") -> ParamSpec:
    return ParamSpec(name, Kind.FLOAT, default, minimum, maximum, unit, smoothing_s, description,
                     curve=curve, label=label)


def int_param(name: str, default: int, minimum: int, maximum: int, unit: str = "",
              description: str = "", label: str = "") -> ParamSpec:
    return ParamSpec(name, Kind.INT, default, minimum, maximum, unit, 0.0, description, label=label)


def bool_param(name: str, default: bool, description: str = "", label: str = "") -> ParamSpec:
    return ParamSpec(name, Kind.BOOL, default, description=description, label=label)


def enum_param(name: str, default: str, choices: Iterable[str], description: str = "",
               label: str = "") -> ParamSpec:
    return ParamSpec(name, Kind.ENUM, default, choices=tuple(choices), description=description, label=label)


def color_param(name: str, default: str | Color, description: str = "", smoothing_s: float = 0.0,
                label: str = "") -> ParamSpec:
    return ParamSpec(name, Kind.COLOR, default, smoothing_s=smoothing_s, description=description, label=label)


@dataclass(frozen=True)
class Change:
    """A notification: parameter ``name`` was set to ``value`` by ``source``."""

    name: str
    value: Value
    source: str
    clamped_reason: str = ""


@dataclass
class _Slot:
    spec: ParamSpec
    target: Value
    current: Value
    source: str = "default"
    remaining_s: float = 0.0


Listener = Callable[[Change], None]


@dataclass
class ParamBank:
    """The one writer-owned store of parameter values.

    Not thread-safe for writers by design: one thread (the engine's) writes; other
    threads post changes to the engine's input queue and read :meth:`snapshot`.
    """

    _slots: dict[str, _Slot] = field(default_factory=dict)
    _listeners: list[Listener] = field(default_factory=list)
    _snapshot: Mapping[str, Value] = field(default_factory=lambda: MappingProxyType({}))
    _base: Mapping[str, Value] = field(default_factory=lambda: MappingProxyType({}))
    _offsets: dict[str, float] = field(default_factory=dict)  # modulation, of each normalised range
    _version: int = 0

    # -- registration ---------------------------------------------------------------
    def register(self, spec: ParamSpec) -> None:
        """Add a parameter; registering the same spec again is harmless, a different one is an error."""
        existing = self._slots.get(spec.name)
        if existing is not None:
            if existing.spec != spec:
                raise ValueError(f"parameter {spec.name!r} is already registered with another declaration")
            return
        self._slots[spec.name] = _Slot(spec, spec.default, spec.default)
        self._publish()

    def register_all(self, specs: Iterable[ParamSpec]) -> None:
        for spec in specs:
            self.register(spec)

    def declare(self, owner: str, specs: Iterable[ParamSpec]) -> None:
        """Make ``specs`` the whole of ``owner``'s parameters (a shader header saved with inputs
        added, removed or changed): an unchanged one keeps its value, so the operator's settings
        survive the save; a new or changed one starts at its default."""
        wanted = {spec.name: spec for spec in specs}
        for name in [n for n, slot in self._slots.items() if slot.spec.owner == owner and wanted.get(n) != slot.spec]:
            del self._slots[name]
        self._publish()
        self.register_all(wanted.values())

    # -- reading --------------------------------------------------------------------
    def __contains__(self, name: object) -> bool:
        return name in self._slots

    def __len__(self) -> int:
        return len(self._slots)

    def names(self) -> list[str]:
        return sorted(self._slots)

    def specs(self) -> list[ParamSpec]:
        return [self._slots[name].spec for name in self.names()]

    def spec(self, name: str) -> ParamSpec:
        return self._slot(name).spec

    def get(self, name: str) -> Value:
        """The current (smoothed) value."""
        return self._slot(name).current

    def number(self, name: str) -> float:
        """The current value of a numeric (float, int or bool) parameter, as a float."""
        value = self.get(name)
        if isinstance(value, (int, float)):
            return float(value)
        raise TypeError(f"parameter {name!r} is not numeric")

    def target(self, name: str) -> Value:
        """The value being smoothed towards."""
        return self._slot(name).target

    def source(self, name: str) -> str:
        return self._slot(name).source

    def snapshot(self) -> Mapping[str, Value]:
        """An immutable view of every current value, modulated (:meth:`modulate`): what the world, the
        renderer and the synth play; safe to read from any thread."""
        return self._snapshot

    def base_snapshot(self) -> Mapping[str, Value]:
        """The current values without modulation: what a performer, a preset or a morph set (a
        controller's soft takeover compares with these); safe to read from any thread."""
        return self._base

    def offset(self, name: str) -> float:
        """The modulation offset of ``name`` (0 without any)."""
        return self._offsets.get(name, 0.0)

    def modulate(self, offsets: Mapping[str, float]) -> None:
        """Replace every parameter's modulation offset (a share of its normalised range, summed over
        its routings). The snapshot carries ``spec.shifted(current, offset)``; :meth:`get`,
        :meth:`target` and everything saved stay the base, so modulation never overwrites it."""
        wanted = {name: offset for name, offset in offsets.items() if offset != 0.0 and name in self._slots}
        if wanted != self._offsets:
            self._offsets = wanted
            self._publish()

    @property
    def version(self) -> int:
        """Increases whenever any current value changes."""
        return self._version

    # -- writing --------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` after every set; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def set(self, name: str, value: object, source: str, *, immediate: bool = False,
            fade_s: float | None = None) -> Change:
        """Set a target value from ``source``; clamps and logs out-of-range values.

        Raises :class:`KeyError` for an unknown name and :class:`ValueError` for a value of the
        wrong type; both are for the caller to count and report.
        """
        return self.set_many({name: value}, source, immediate=immediate, fade_s=fade_s)[0]

    def set_many(self, values: Mapping[str, object], source: str, *, immediate: bool = False,
                 fade_s: float | None = None) -> list[Change]:
        """Set several targets and publish one snapshot (a preset recall, a morph step).

        ``fade_s`` smooths these changes over that time instead of each parameter's own
        smoothing (the opening hours' fades); 0 is immediate."""
        # Check everything first so that a bad value changes nothing.
        checked = [(self._slot(name), *self._slot(name).spec.coerce(value)) for name, value in values.items()]
        changes = []
        for slot, coerced, reason in checked:
            name = slot.spec.name
            if reason:
                log.warning("parameter %s from %s: %s", name, source, reason)
            slot.target = coerced
            slot.source = source
            smoothing_s = slot.spec.smoothing_s if fade_s is None else fade_s
            if immediate or smoothing_s <= 0 or slot.spec.kind in (Kind.BOOL, Kind.ENUM, Kind.INT):
                slot.current = coerced
                slot.remaining_s = 0.0
            else:
                slot.remaining_s = smoothing_s
            changes.append(Change(name, coerced, source, reason))
        self._publish()
        for change in changes:
            for listener in list(self._listeners):
                listener(change)
        return changes

    def set_normalized(self, name: str, position: float, source: str) -> Change:
        return self.set(name, self.spec(name).from_normalized(position), source)

    def reset(self, name: str, source: str) -> Change:
        return self.set(name, self.spec(name).default, source)

    def tick(self, dt: float) -> None:
        """Advance smoothing by ``dt`` seconds (called by the engine's fixed step)."""
        moved = False
        for slot in self._slots.values():
            if slot.remaining_s <= 0:
                continue
            fraction = min(1.0, dt / slot.remaining_s)
            slot.current = _blend(slot.spec, slot.current, slot.target, fraction)
            slot.remaining_s = max(0.0, slot.remaining_s - dt)
            if slot.remaining_s == 0.0:
                slot.current = slot.target
            moved = True
        if moved:
            self._publish()

    # -- snapshots (installation.core.snapshot) -----------------------------------------
    def save_state(self) -> dict[str, list[object]]:
        """Every parameter's target, current value, source and smoothing left, JSON-able."""
        def plain(value: Value) -> object:
            return list(value) if isinstance(value, tuple) else value

        return {name: [plain(slot.target), plain(slot.current), slot.source, slot.remaining_s]
                for name, slot in self._slots.items()}

    def restore_state(self, state: Mapping[str, list[object]]) -> None:
        """Put back :meth:`save_state`'s values for the parameters this bank has (each coerced by
        its spec; others are ignored). A malformed entry raises ValueError before anything changes."""
        wanted = []
        for name, entry in state.items():
            slot = self._slots.get(name)
            if slot is None:
                continue
            target, current, source, remaining = entry
            wanted.append((slot, slot.spec.coerce(target)[0], slot.spec.coerce(current)[0], str(source),
                           max(0.0, float(remaining))))  # type: ignore[arg-type]
        for slot, target, current, source, remaining in wanted:
            slot.target, slot.current, slot.source, slot.remaining_s = target, current, source, remaining
        self._publish()

    # -- internals ------------------------------------------------------------------
    def _slot(self, name: str) -> _Slot:
        try:
            return self._slots[name]
        except KeyError:
            raise KeyError(f"unknown parameter {name!r}") from None

    def _publish(self) -> None:
        self._version += 1
        self._base = MappingProxyType({name: slot.current for name, slot in self._slots.items()})
        if not self._offsets:
            self._snapshot = self._base
            return
        values = dict(self._base)
        for name, offset in self._offsets.items():
            slot = self._slots.get(name)
            if slot is not None:
                values[name] = slot.spec.shifted(slot.current, offset)
        self._snapshot = MappingProxyType(values)


def _blend(spec: ParamSpec, start: Value, end: Value, fraction: float) -> Value:
    """Linear step from start towards end; colors per channel."""
    if spec.kind is Kind.COLOR:
        a, b = cast(Color, start), cast(Color, end)
        return (a[0] + (b[0] - a[0]) * fraction, a[1] + (b[1] - a[1]) * fraction, a[2] + (b[2] - a[2]) * fraction)
    return float(start) + (float(end) - float(start)) * fraction  # type: ignore[arg-type]
