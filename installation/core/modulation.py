"""Modulation: sources (LFOs, envelopes, the network's measures, the room, MIDI controls) routed
to parameters.

Every source gives a value in 0..1. A :class:`Routing` turns it into an offset on its target's
normalised range (:meth:`ParamSpec.to_normalized`): ``depth * curve(value)``, or with
``bipolar`` ``depth * (2 * curve(value) - 1)`` (a wobble around the base). The offsets of every
routing to one parameter are summed, added to the base's normalised position and clamped to
0..1 (:meth:`ParamSpec.shifted`, applied by :meth:`ParamBank.modulate`), so a modulated value
never leaves its range and the base (what a performer, a preset or a morph set) is never written.

LFOs, with ``x`` the position in cycles and ``p = x - floor(x)``:

- rate in beats: ``x = beat / rate + phase`` (``rate`` beats per cycle: 4 is one cycle a bar
  of 4/4); rate in hertz: ``x = t * rate + phase`` (``t`` the engine's time in seconds)
- sine ``0.5 + 0.5 sin(2 pi p)``; triangle ``1 - |2p - 1|``; saw ``p``; square ``1`` while
  ``p < 0.5`` else ``0``; random: one value per cycle (``hash(floor(x), seed)``, held); smooth
  random: from one cycle's random value to the next's along ``3p^2 - 2p^3``.

Pure: it reads what the engine hands it (the time, the beat position, the world's frame, the
room's features, MIDI controls) and keeps only the envelopes' and the spike rate's state.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, TypeVar

import numpy as np
import tomlkit

from installation.core.events import Event, EventKind
from installation.core.frames import WorldFrame
from installation.core.params import Kind, ParamSpec, float_param
from installation.core.tomlsource import Checker

E = TypeVar("E", bound=StrEnum)


class SourceKind(StrEnum):
    LFO = "lfo"
    ENVELOPE = "envelope"
    NETWORK = "network"
    ROOM = "room"
    MIDI = "midi"


class Shape(StrEnum):
    SINE = "sine"
    TRIANGLE = "triangle"
    SAW = "saw"
    SQUARE = "square"
    RANDOM = "random"
    SMOOTH_RANDOM = "smooth_random"


class RateUnit(StrEnum):
    BEATS = "beats"
    HZ = "hz"


class ModCurve(StrEnum):
    """How a source's 0..1 value is bent before the depth: linear, exp (x²), log (√x), smooth (S)."""

    LINEAR = "linear"
    EXP = "exp"
    LOG = "log"
    SMOOTH = "smooth"


AMOUNT = "mod.amount"


def param_specs() -> list[ParamSpec]:
    return [float_param(AMOUNT, 1.0, 0.0, 1.0, "", "How much of every routing's depth applies (0: none, the "
                        "base values as set)", smoothing_s=0.1, label="Modulation amount")]


# The network's measures (docs/perform.md says how each is brought to 0..1).
MEASURES = ("activity", "spike_rate", "toxin", "flora", "nodes")
ROOM_FEATURES = ("level", "low", "mid", "high", "onset")
SPIKE_RATE_FULL = 20.0  # spikes per second that read 1
SPIKE_RATE_TAU_S = 1.0  # the spike rate is an average over about this long
NODES_FULL = 16  # nodes that read 1 (the seeds hold 2 to 7; live nodes join them)


@dataclass(frozen=True)
class Source:
    """One modulation source. Only the fields of its kind matter; the others keep their defaults,
    so two routings from the same source compare equal and share its state (an envelope)."""

    kind: SourceKind
    name: str = ""  # the measure (network), the feature (room), the event kind (envelope)
    shape: Shape = Shape.SINE
    rate: float = 1.0
    unit: RateUnit = RateUnit.BEATS
    phase: float = 0.0
    seed: int = 0
    attack: float = 0.01
    hold: float = 0.0
    decay: float = 0.5
    channel: int = 1
    cc: int = 1

    @property
    def label(self) -> str:
        """A short name for the matrix's rows and the status."""
        if self.kind is SourceKind.LFO:
            unit = "beats" if self.unit is RateUnit.BEATS else "Hz"
            phase = f" +{self.phase:g}" if self.phase else ""
            return f"lfo {self.shape.value} {self.rate:g} {unit}{phase}"
        if self.kind is SourceKind.ENVELOPE:
            return f"envelope {self.name} {self.attack:g}/{self.hold:g}/{self.decay:g} s"
        if self.kind is SourceKind.MIDI:
            return f"midi ch {self.channel} cc {self.cc}"
        return f"{self.kind.value}.{self.name}"


@dataclass(frozen=True)
class Routing:
    source: Source
    target: str
    depth: float  # -1..1 of the target's normalised range
    curve: ModCurve = ModCurve.LINEAR
    bipolar: bool = False

    def offset(self, value: float) -> float:
        bent = bend(self.curve, value)
        return self.depth * (2.0 * bent - 1.0 if self.bipolar else bent)


# Parts that read their parameters as set (the engine its show.*, the MIDI layer its midi.*), not
# from the snapshot: a routing to them would move nothing.
READ_AS_SET = ("show.", "mod.", "midi.")


def modulatable(spec: ParamSpec) -> str:
    """Why ``spec`` cannot be modulated ('' if it can)."""
    if spec.kind is Kind.COLOR:
        return "a color has no single normalised value"
    if spec.name.startswith(READ_AS_SET):
        return "read as set by its part, not as played: modulation would not move it"
    return ""


def bend(curve: ModCurve, value: float) -> float:
    x = min(1.0, max(0.0, value))
    if curve is ModCurve.EXP:
        return x * x
    if curve is ModCurve.LOG:
        return math.sqrt(x)
    if curve is ModCurve.SMOOTH:
        return x * x * (3.0 - 2.0 * x)
    return x


def _hash01(cycle: int, seed: int) -> float:
    """A random-looking value in 0..1 for a cycle: the same for the same cycle and seed, on any machine."""
    z = (cycle * 0x9E3779B97F4A7C15 + seed * 0xBF58476D1CE4E5B9 + 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return ((z ^ (z >> 31)) >> 11) / float(1 << 53)


def lfo_position(source: Source, t: float, beat: float) -> float:
    """How many cycles the LFO has run (see the module's formula)."""
    if source.unit is RateUnit.BEATS:
        return beat / source.rate + source.phase
    return t * source.rate + source.phase


def lfo_value(shape: Shape, position: float, seed: int = 0) -> float:
    cycle = math.floor(position)
    p = position - cycle
    if shape is Shape.SINE:
        return 0.5 + 0.5 * math.sin(2.0 * math.pi * p)
    if shape is Shape.TRIANGLE:
        return 1.0 - abs(2.0 * p - 1.0)
    if shape is Shape.SAW:
        return p
    if shape is Shape.SQUARE:
        return 1.0 if p < 0.5 else 0.0
    if shape is Shape.RANDOM:
        return _hash01(cycle, seed)
    a, b = _hash01(cycle, seed), _hash01(cycle + 1, seed)
    return a + (b - a) * p * p * (3.0 - 2.0 * p)


@dataclass
class Envelope:
    """Attack, hold, linear decay; a new event starts from where the envelope stands (no jump)."""

    start_t: float = -math.inf
    start: float = 0.0
    peak: float = 0.0

    def trigger(self, source: Source, t: float, strength: float) -> None:
        self.start = self.value(source, t)
        self.start_t = t
        self.peak = min(1.0, max(0.0, strength))

    def value(self, source: Source, t: float) -> float:
        elapsed = t - self.start_t
        if elapsed < 0 or not math.isfinite(elapsed):
            return 0.0
        if elapsed < source.attack:
            return self.start + (self.peak - self.start) * elapsed / source.attack
        elapsed -= max(0.0, source.attack)
        if elapsed <= source.hold:
            return self.peak
        elapsed -= source.hold
        if elapsed < source.decay:
            return self.peak * (1.0 - elapsed / source.decay)
        return 0.0


def _field_mean(frame: WorldFrame, name: str) -> float:
    grid = frame.fields.get(name)
    if grid is None or grid.size == 0:
        return 0.0
    value = float(np.mean(grid))
    return min(1.0, max(0.0, value)) if math.isfinite(value) else 0.0


def measures(frame: WorldFrame, spike_rate: float) -> dict[str, float]:
    """The network's measures in 0..1: mean node activity; the spike rate over SPIKE_RATE_FULL;
    the toxin and flora fields' means; the number of nodes over NODES_FULL."""
    activity = float(np.mean(frame.activity)) if frame.node_count else 0.0
    return {
        "activity": min(1.0, max(0.0, activity)) if math.isfinite(activity) else 0.0,
        "spike_rate": min(1.0, spike_rate / SPIKE_RATE_FULL),
        "toxin": _field_mean(frame, "toxin"),
        "flora": _field_mean(frame, "flora"),
        "nodes": min(1.0, frame.node_count / NODES_FULL),
    }


def sum_offsets(routings: Iterable[Routing], values: Mapping[Source, float]) -> dict[str, float]:
    """Each target's summed offset (a source without a value reads 0)."""
    offsets: dict[str, float] = {}
    for routing in routings:
        offsets[routing.target] = offsets.get(routing.target, 0.0) + routing.offset(values.get(routing.source, 0.0))
    return offsets


@dataclass
class Modulator:
    """The sources' state, stepped by the engine once per tick."""

    routings: tuple[Routing, ...] = ()
    room: Mapping[str, float] = field(default_factory=dict)  # room.level, room.low...: AudioEngine.features()
    # in a cluster, the leader's room as stepped to every member (app/cluster.py), read instead of ``room``
    shared_room: Mapping[str, float] | None = None
    controls: dict[tuple[int, int], float] = field(default_factory=dict)  # (channel, cc) → 0..1
    values: dict[Source, float] = field(default_factory=dict)  # each source's value at the last update
    spike_rate: float = 0.0  # spikes per second, averaged
    _envelopes: dict[Source, Envelope] = field(default_factory=dict)

    def set_routings(self, routings: Iterable[Routing]) -> None:
        """New routings (a preset); envelopes of sources still in use keep their state."""
        self.routings = tuple(routings)
        sources = {routing.source for routing in self.routings}
        self._envelopes = {source: env for source, env in self._envelopes.items() if source in sources}
        self.values = {source: value for source, value in self.values.items() if source in sources}

    def control(self, channel: int, number: int, value: float) -> None:
        self.controls[(channel, number)] = min(1.0, max(0.0, value))

    def update(self, t: float, beat: float, dt: float, frame: WorldFrame, amount: float = 1.0) -> dict[str, float]:
        """Step the sources to time ``t`` (seconds) and ``beat`` (the tempo's beat position) with the
        world's latest frame; returns each target's summed offset, times ``amount``."""
        spikes = sum(1 for event in frame.events if event.kind is EventKind.SPIKE)
        if dt > 0:
            self.spike_rate += (spikes / dt - self.spike_rate) * min(1.0, dt / SPIKE_RATE_TAU_S)
        if not self.routings:
            return {}
        network = measures(frame, self.spike_rate)
        for source in {routing.source for routing in self.routings}:
            self.values[source] = self._value(source, t, beat, frame.events, network)
        offsets = sum_offsets(self.routings, self.values)
        return {name: offset * amount for name, offset in offsets.items()} if amount != 1.0 else offsets

    def _value(self, source: Source, t: float, beat: float, events: tuple[Event, ...],
               network: Mapping[str, float]) -> float:
        kind = source.kind
        if kind is SourceKind.LFO:
            return lfo_value(source.shape, lfo_position(source, t, beat), source.seed)
        if kind is SourceKind.ENVELOPE:
            envelope = self._envelopes.setdefault(source, Envelope())
            for event in events:
                if event.kind.value == source.name:
                    envelope.trigger(source, t, event.strength)
            return envelope.value(source, t)
        if kind is SourceKind.NETWORK:
            return network.get(source.name, 0.0)
        if kind is SourceKind.ROOM:
            room = self.room if self.shared_room is None else self.shared_room
            value = float(room.get(f"room.{source.name}", 0.0))
            return min(1.0, max(0.0, value)) if math.isfinite(value) else 0.0
        return self.controls.get((source.channel, source.cc), 0.0)


# -- presets: [[modulation]] tables ---------------------------------------------------------------
MAX_ROUTINGS = 64
COMMON_KEYS = {"source", "target", "depth", "curve", "bipolar"}
KIND_KEYS = {
    SourceKind.LFO: {"shape", "rate", "unit", "phase", "seed"},
    SourceKind.ENVELOPE: {"event", "attack", "hold", "decay"},
    SourceKind.NETWORK: set(),
    SourceKind.ROOM: set(),
    SourceKind.MIDI: {"channel", "cc"},
}
DEFAULT = Source(SourceKind.LFO)


def source_names() -> list[str]:
    """What ``source =`` may say."""
    return ["lfo", "envelope", *(f"network.{m}" for m in MEASURES), *(f"room.{f}" for f in ROOM_FEATURES), "midi"]


def _choice(checker: Checker, table: Mapping[str, Any], name: str, key: str, kind: type[E], default: E) -> E:
    text = checker.string(table, name, key, default.value)
    try:
        return kind(text)
    except ValueError:
        checker.fail(key, f"{text!r} is not one of {', '.join(item.value for item in kind)}")
        return default


def parse_routing(checker: Checker, table: Mapping[str, Any], key: str,
                  specs: Mapping[str, ParamSpec] | None, live: Collection[str] = ()) -> Routing | None:
    """One ``[[modulation]]`` table (problems go to ``checker``, keyed ``modulation[i].name``)."""
    text = checker.string(table, "source", f"{key}.source")
    kind_text, _, name = text.partition(".")
    if text not in source_names():
        checker.fail(f"{key}.source", f"{text!r} is not one of {', '.join(source_names())}")
        return None
    kind = SourceKind(kind_text)
    checker.unknown_keys(table, COMMON_KEYS | KIND_KEYS[kind], key)
    target = checker.string(table, "target", f"{key}.target")
    spec = specs.get(target) if specs is not None else None
    if specs is not None and spec is None:
        checker.fail(f"{key}.target", f"unknown parameter {target!r}")
    elif spec is not None and modulatable(spec):
        checker.fail(f"{key}.target", modulatable(spec))
    elif target in live:
        checker.fail(f"{key}.target", "is live state, set by its command; it cannot be modulated")
    depth = checker.number(table, "depth", f"{key}.depth", minimum=-1.0, maximum=1.0)
    curve = _choice(checker, table, "curve", f"{key}.curve", ModCurve, ModCurve.LINEAR)
    bipolar = checker.boolean(table, "bipolar", f"{key}.bipolar", False)
    source = Source(kind, name)
    if kind is SourceKind.LFO:
        source = replace(
            source, shape=_choice(checker, table, "shape", f"{key}.shape", Shape, DEFAULT.shape),
            rate=checker.number(table, "rate", f"{key}.rate", DEFAULT.rate, 1e-3, 1e4),
            unit=_choice(checker, table, "unit", f"{key}.unit", RateUnit, DEFAULT.unit),
            phase=checker.number(table, "phase", f"{key}.phase", 0.0, -1.0, 1.0),
            seed=checker.integer(table, "seed", f"{key}.seed", 0, 0, 2**31 - 1))
        if source.rate <= 0:  # the range check above reported it
            return None
    elif kind is SourceKind.ENVELOPE:
        event = checker.string(table, "event", f"{key}.event")
        if event and event not in {item.value for item in EventKind}:
            checker.fail(f"{key}.event", f"{event!r} is not one of {', '.join(item.value for item in EventKind)}")
        source = replace(source, name=event,
                         attack=checker.number(table, "attack", f"{key}.attack", DEFAULT.attack, 0.0, 60.0),
                         hold=checker.number(table, "hold", f"{key}.hold", DEFAULT.hold, 0.0, 600.0),
                         decay=checker.number(table, "decay", f"{key}.decay", DEFAULT.decay, 0.0, 600.0))
    elif kind is SourceKind.MIDI:
        source = replace(source, channel=checker.integer(table, "channel", f"{key}.channel", 1, 1, 16),
                         cc=checker.integer(table, "cc", f"{key}.cc", None, 0, 127))
    return Routing(source, target, depth, curve, bipolar)


def parse_routings(checker: Checker, data: Mapping[str, Any], specs: Mapping[str, ParamSpec] | None,
                   live: Collection[str] = ()) -> tuple[Routing, ...]:
    routings = []
    for index, table in enumerate(checker.tables(data, "modulation", "modulation", MAX_ROUTINGS)):
        routing = parse_routing(checker, table, f"modulation[{index}]", specs, live)
        if routing is not None:
            routings.append(routing)
    return tuple(routings)


def routing_table(routing: Routing) -> dict[str, object]:
    """A routing as its ``[[modulation]]`` table: the keys of its kind that differ from the defaults."""
    source = routing.source
    table: dict[str, object] = {"source": source.kind.value + (f".{source.name}" if source.kind in (
        SourceKind.NETWORK, SourceKind.ROOM) else ""), "target": routing.target, "depth": round(routing.depth, 6)}
    if routing.curve is not ModCurve.LINEAR:
        table["curve"] = routing.curve.value
    if routing.bipolar:
        table["bipolar"] = True
    if source.kind is SourceKind.ENVELOPE:
        table["event"] = source.name
    for name in sorted(KIND_KEYS[source.kind] - {"event"}):
        value = getattr(source, name)
        if name in ("channel", "cc") or value != getattr(DEFAULT, name):
            table[name] = value.value if isinstance(value, StrEnum) else value
    return table


def render_routings(document: MutableMapping[str, Any], routings: Sequence[Routing]) -> None:
    """Write ``routings`` into a tomlkit document as ``[[modulation]]`` tables; unchanged ones are
    left as the artist wrote them (comments and all)."""
    existing = document.get("modulation")
    tables = [routing_table(routing) for routing in routings]
    if existing is not None and _unwrap(existing) == tables:
        return
    if not tables:
        if existing is not None:
            del document["modulation"]
        return
    array = tomlkit.aot()
    for table in tables:
        item = tomlkit.table()
        item.update(table)
        array.append(item)
    document["modulation"] = array


def _unwrap(value: Any) -> Any:
    return value.unwrap() if hasattr(value, "unwrap") else value
