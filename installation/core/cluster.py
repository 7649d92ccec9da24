"""A Myco cluster over the MQTT broker: the venue's ``[cluster]``, the messages and the rules.

Pure (no paho): the adapter is ``installation.app.cluster``. How it works (docs/cluster.md):

- **Lockstep.** Every member runs the same deterministic engine. The leader drains its inputs
  (OSC, MIDI, MQTT commands, the status page) at step ``s`` and schedules them for step
  ``s + DELAY_STEPS``; each tick it publishes one *batch*: the items of the steps it has just
  scheduled and ``sealed``, the last step whose items are all known. A follower steps only up to
  ``sealed`` and no further than the leader's clock, so every member applies the same items at the
  same step number. :class:`Schedule` is both sides' store of those items.
- **What else is stepped**: the leader's wall clock (the opening hours), its tempo when a tap,
  MIDI clock or Link moved it (:func:`encode_tempo`), its room's sound (:func:`encode_room`) and
  the current preset's file when it was saved during the show (:func:`encode_preset_file`).
- **The show clock** travels in every batch: the leader's step, its wall time and the step rate.
  :class:`ShowClock` turns them into "where the leader is now" for pacing, lag and frame stamps.
- **Catch-up.** The leader publishes the organism's snapshot (``core/snapshot.py``) retained,
  periodically and at act changes, with the items it had scheduled beyond it; a joiner restores it
  and takes the batches from there.
- **Leadership** (:class:`Election`): a retained claim ``{leader, epoch}``; a member whose
  presence has been silent for :data:`LEADER_TIMEOUT_S` (or whose last will said offline) is dead;
  the living member with the best (lowest) priority claims ``epoch + 1``. Claims with a lower epoch
  than the one known are refused, so an old leader that comes back follows.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from installation.core.commands import Command
from installation.core.errors import LoadError
from installation.core.events import CommandInput, ControlInput, Event, Input, ParamInput, RoutingsInput
from installation.core.frames import NodeReading
from installation.core.modulation import ROOM_FEATURES, parse_routings, routing_table
from installation.core.tempo import MAX_BPM, MIN_BPM, Stamp
from installation.core.tempo import Source as TempoSource
from installation.core.tomlsource import Checker, TomlSource

DELAY_STEPS = 6  # inputs take effect this many steps after the leader drains them (100 ms at 60 Hz)
RENDER_GROUP = 2  # the hyphae advance once per this many engine steps, with this many steps' dt
LEADER_TIMEOUT_S = 2.5  # a member unheard this long is gone (its presence comes every PRESENCE_EVERY_S)
PRESENCE_EVERY_S = 0.5
STATE_EVERY_S = 5.0  # the retained snapshot, besides every act change
MAX_MEMBERS = 16
MAX_ITEMS_PER_BATCH = 65536  # a tick's node readings too: 5,000 nodes at 2 Hz are about 170 a step
ROOM_EVERY_STEPS = 6  # the leader's room's features travel at most this often (10 a second at 60 Hz)
ROOM_DIGITS = 4  # and rounded so: the room.* sources read 0..1
MAX_PRESET_TEXT = 256 * 1024
MEMBER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
NAMESPACE = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")
ROLES = ("leader", "follower")


class ProtocolError(ValueError):
    """A message that is not one of ours: malformed, from outside the namespace, or replayed."""


# -- the venue's [cluster] ----------------------------------------------------------------------

@dataclass(frozen=True)
class Member:
    name: str
    role: str = "follower"  # who leads when the cluster starts; any member may take over
    priority: int = 100  # lower takes over first


@dataclass(frozen=True)
class ClusterSpec:
    broker: str  # mqtt:// or mqtts://[user:password@]host[:port] (inputs/mqtt.py BrokerUrl)
    namespace: str  # every topic of the cluster is under it
    members: tuple[Member, ...] = ()
    ca_file: str | None = None  # the broker's CA for mqtts://

    def member(self, name: str) -> Member:
        for member in self.members:
            if member.name == name:
                return member
        raise KeyError(f"no member {name!r} in the cluster (members: {', '.join(m.name for m in self.members)})")


def check_member(venue: Any, name: str) -> None:
    """``--member NAME`` names a member of the venue's ``[cluster]``; raises LoadError saying why."""
    path = str(venue.path) if venue is not None and venue.path is not None else "venue"
    cluster: ClusterSpec | None = venue.cluster if venue is not None else None
    if cluster is None:
        raise LoadError.single(path, 0, "cluster", "--member needs a venue file with a [cluster] section")
    try:
        cluster.member(name)
    except KeyError as error:
        raise LoadError.single(path, 0, "cluster.member", str(error.args[0])) from None


def default_namespace(venue_name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", venue_name).strip("-") or "venue"
    return f"myco/{slug}"


def parse_cluster(checker: Checker, data: Mapping[str, Any], venue_name: str) -> ClusterSpec | None:
    """``[cluster]`` with its ``[[cluster.member]]`` tables; None when the venue has none."""
    if "cluster" not in data:
        return None
    table = checker.table(data, "cluster", "cluster")
    checker.unknown_keys(table, {"broker", "namespace", "ca_file", "member"}, "cluster")
    broker = checker.string(table, "broker", "cluster.broker", "")
    if not broker.startswith(("mqtt://", "mqtts://")):
        checker.fail("cluster.broker", "must be a broker URL mqtt://host:port or mqtts://user:password@host:port")
    namespace = checker.string(table, "namespace", "cluster.namespace", default_namespace(venue_name),
                               pattern=NAMESPACE)
    ca_file = checker.string(table, "ca_file", "cluster.ca_file", "") or None
    members = []
    for index, item in enumerate(checker.tables(table, "member", "cluster.member", MAX_MEMBERS)):
        key = f"cluster.member[{index}]"
        checker.unknown_keys(item, {"name", "role", "priority"}, key)
        name = checker.string(item, "name", f"{key}.name", f"member{index + 1}", pattern=MEMBER_NAME)
        role = checker.string(item, "role", f"{key}.role", "follower")
        if role not in ROLES:
            checker.fail(f"{key}.role", f"must be one of: {', '.join(ROLES)}")
        priority = checker.integer(item, "priority", f"{key}.priority", 100, 0, 1000)
        members.append(Member(name, role, priority))
    if not members:
        checker.fail("cluster", "a cluster needs at least one [[cluster.member]]")
    names = [member.name for member in members]
    for index, name in enumerate(names):
        if name in names[:index]:
            checker.fail(f"cluster.member[{index}].name", f"another member is already called {name!r}")
    if members and sum(member.role == "leader" for member in members) != 1:
        checker.fail("cluster.member", "exactly one member must have role = \"leader\"")
    return ClusterSpec(broker, namespace, tuple(members), ca_file)


# -- topics and messages ------------------------------------------------------------------------

@dataclass(frozen=True)
class Topics:
    namespace: str

    def _t(self, *parts: str) -> str:
        return "/".join((self.namespace, "cluster", *parts))

    @property
    def claim(self) -> str:
        return self._t("leader")

    @property
    def steps(self) -> str:
        return self._t("steps")

    @property
    def state(self) -> str:
        return self._t("state")

    def presence(self, member: str) -> str:
        return self._t("members", member)

    def forward(self, member: str) -> str:
        return self._t("forward", member)

    def request(self, member: str) -> str:
        return self._t("request", member)

    @property
    def all(self) -> str:
        return self._t("#")

    def inside(self, topic: str) -> bool:
        return topic.startswith(self._t(""))


def encode_input(item: Input) -> dict[str, Any]:
    """One engine input as JSON-able values."""
    if isinstance(item, Event):
        return {"k": "event", "kind": item.kind.value, "t": item.t, "strength": item.strength, "x": item.x,
                "y": item.y, "node": item.node, "source": item.source, "data": dict(item.data)}
    if isinstance(item, ParamInput):
        value = list(item.value) if isinstance(item.value, tuple) else item.value
        return {"k": "param", "name": item.name, "value": value, "source": item.source,
                "normalized": item.normalized, "fade_s": item.fade_s}
    if isinstance(item, CommandInput):
        return {"k": "command", "command": item.command.value, "argument": item.argument, "source": item.source,
                "at": item.at}
    if isinstance(item, ControlInput):
        return {"k": "control", "channel": item.channel, "number": item.number, "value": item.value}
    # the matrix's routings, as the preset file writes them
    return {"k": "routings", "routings": [routing_table(routing) for routing in item.routings], "source": item.source}


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ProtocolError(f"{name} must be a finite number")
    return float(value)


def _optional(value: object, name: str) -> float | None:
    return None if value is None else _number(value, name)


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or len(value) > 256:
        raise ProtocolError(f"{name} must be a short string")
    return value


def decode_input(data: object) -> Input:
    """The inverse of :func:`encode_input`; raises ProtocolError for anything else."""
    if not isinstance(data, dict):
        raise ProtocolError("an input must be an object")
    try:
        kind = data.get("k")
        if kind == "event":
            raw = data.get("data") or {}
            if not isinstance(raw, dict):
                raise ProtocolError("event data must be an object")
            node = data.get("node")
            return Event(data["kind"], _number(data["t"], "t"), _number(data["strength"], "strength"),
                         _optional(data.get("x"), "x"), _optional(data.get("y"), "y"),
                         None if node is None else _text(node, "node"), _text(data["source"], "source"),
                         {_text(k, "data key"): _number(v, "data value") for k, v in raw.items()})
        if kind == "param":
            value = data["value"]
            if isinstance(value, list):
                value = tuple(_number(v, "value") for v in value)
            elif not isinstance(value, (bool, int, float, str)):
                raise ProtocolError("a parameter's value must be a number, a string or a list of numbers")
            return ParamInput(_text(data["name"], "name"), value, _text(data["source"], "source"),
                              bool(data.get("normalized", False)), _optional(data.get("fade_s"), "fade_s"))
        if kind == "command":
            return CommandInput(Command(data["command"]), _text(data.get("argument", ""), "argument"),
                                _text(data.get("source", "cluster"), "source"), _text(data.get("at", ""), "at"))
        if kind == "control":
            return ControlInput(int(_number(data["channel"], "channel")), int(_number(data["number"], "number")),
                                _number(data["value"], "value"))
        if kind == "routings":
            tables = data["routings"]
            if not isinstance(tables, list):
                raise ProtocolError("routings must be a list")
            checker = Checker(TomlSource(Path("cluster"), "", {}))
            routings = parse_routings(checker, {"modulation": tables}, None)
            if checker.problems:
                raise ProtocolError(f"bad routings: {checker.problems[0]}")
            return RoutingsInput(routings, _text(data.get("source", "cluster"), "source"))
    except (KeyError, TypeError, ValueError) as error:
        raise ProtocolError(f"bad {kind} input: {error}") from None
    raise ProtocolError(f"unknown input kind {kind!r}")


def encode_reading(reading: NodeReading) -> dict[str, Any]:
    """A live node's reading as a stepped item: every member's mux takes it at the same step."""
    def value(number: float | None) -> float | None:
        return None if number is None or math.isnan(number) else number

    return {"k": "reading", "node": reading.node, "t": reading.t, "mv": value(reading.potential_mv),
            "toxin": value(reading.toxin), "waste": value(reading.waste), "moisture": value(reading.moisture),
            "x": reading.x, "y": reading.y, "source": reading.source}


def decode_reading(data: Mapping[str, Any]) -> NodeReading:
    """The inverse of :func:`encode_reading` (a missing measure comes back as NaN, as it left)."""
    def value(name: str) -> float:
        number = _optional(data.get(name), name)
        return math.nan if number is None else number

    try:
        return NodeReading(_text(data["node"], "node"), _number(data["t"], "t"), value("mv"), value("toxin"),
                           value("waste"), value("moisture"), _optional(data.get("x"), "x"),
                           _optional(data.get("y"), "y"), _text(data.get("source", "cluster"), "source"))
    except KeyError as error:
        raise ProtocolError(f"bad reading: {error}") from None


def encode_wall(wall: float) -> dict[str, Any]:
    """The leader's wall clock (``time.time()``) as a stepped item: what the opening hours read."""
    return {"k": "wall", "wall": wall}


def decode_wall(data: Mapping[str, Any]) -> float:
    return _number(data.get("wall"), "wall")


def encode_tempo(stamp: Stamp) -> dict[str, Any]:
    """The leader's tempo as its sources set it (a tap, MIDI clock, Link) as a stepped item: every
    member's tempo takes it at the step it is scheduled for, its beat then at that step's time."""
    return {"k": "tempo", "bpm": stamp.bpm, "beat": stamp.beat, "running": stamp.running, "source": str(stamp.source)}


def decode_tempo(data: Mapping[str, Any]) -> Stamp:
    bpm, running = _number(data.get("bpm"), "bpm"), data.get("running")
    if not MIN_BPM <= bpm <= MAX_BPM or not isinstance(running, bool):
        raise ProtocolError(f"bad tempo: {bpm} BPM, running {running!r}")
    try:
        source = TempoSource(str(data.get("source")))
    except ValueError:
        raise ProtocolError(f"bad tempo source {data.get('source')!r}") from None
    return Stamp(bpm, _number(data.get("beat"), "beat"), running, source)


ROOM_KEYS = frozenset(f"room.{feature}" for feature in ROOM_FEATURES)


def encode_room(features: Mapping[str, float]) -> dict[str, Any]:
    """The leader's room (its microphone's features, ``room.level``...) as a stepped item: every
    member's ``room.*`` sources read it from that step on. Rounded: the sources read 0..1."""
    return {"k": "room", "room": {name: round(float(value), ROOM_DIGITS) for name, value in features.items()
                                  if name in ROOM_KEYS and math.isfinite(value)}}


def decode_room(data: Mapping[str, Any]) -> dict[str, float]:
    room = data.get("room")
    if not isinstance(room, dict) or not set(room) <= ROOM_KEYS:
        raise ProtocolError("the room must be an object of room.* features")
    return {name: _number(value, name) for name, value in room.items()}


def encode_preset_file(name: str, text: str) -> dict[str, Any]:
    """A preset file the leader saw saved during the show, as it read it: every member takes up
    that text at one step (not its own copy, when it next looks)."""
    return {"k": "preset_file", "name": name, "text": text}


def decode_preset_file(data: Mapping[str, Any]) -> tuple[str, str]:
    name, text = _text(data.get("name"), "name"), data.get("text")
    if not isinstance(text, str) or len(text) > MAX_PRESET_TEXT:
        raise ProtocolError("a preset file's text must be a string of at most 256 KiB")
    return name, text


def encode_message(message: Mapping[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":"), allow_nan=False).encode()


def decode_message(payload: bytes, limit: int = 64 * 1024 * 1024) -> dict[str, Any]:
    if len(payload) > limit:
        raise ProtocolError("message too large")
    try:
        message = json.loads(payload)
    except (UnicodeDecodeError, ValueError) as error:
        raise ProtocolError(f"not JSON: {error}") from None
    if not isinstance(message, dict):
        raise ProtocolError("a message must be an object")
    return message


@dataclass
class Batch:
    """One tick of the leader: the items of steps up to ``sealed``, and the show clock."""

    epoch: int
    leader: str
    first: int  # the first step this batch seals (the previous batch's sealed + 1)
    sealed: int
    step: int  # the leader's step count when it sent this
    wall: float  # the leader's time.time() at that step
    step_hz: float
    items: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    def encode(self) -> bytes:
        return encode_message({"epoch": self.epoch, "leader": self.leader, "first": self.first,
                               "sealed": self.sealed, "step": self.step, "wall": self.wall, "hz": self.step_hz,
                               "items": {str(step): items for step, items in self.items.items()}})

    @classmethod
    def decode(cls, payload: bytes) -> Batch:
        message = decode_message(payload)
        try:
            items_raw = message["items"]
            if not isinstance(items_raw, dict) or sum(map(len, items_raw.values())) > MAX_ITEMS_PER_BATCH:
                raise ProtocolError("items must be an object of at most a few thousand items")
            batch = cls(int(message["epoch"]), _text(message["leader"], "leader"), int(message["first"]),
                        int(message["sealed"]), int(message["step"]), _number(message["wall"], "wall"),
                        _number(message["hz"], "hz"),
                        {int(step): list(items) for step, items in items_raw.items()})
        except (KeyError, TypeError, ValueError) as error:
            raise ProtocolError(f"bad batch: {error}") from None
        if not 0 <= batch.first <= batch.sealed + 1 or batch.step_hz <= 0:
            raise ProtocolError("bad batch: its steps are out of order")
        if any(not batch.first <= step <= batch.sealed for step in batch.items):
            raise ProtocolError("bad batch: an item outside the steps it seals")
        return batch


# -- the stepped inputs -------------------------------------------------------------------------

class Schedule:
    """Items by step number, known up to :attr:`sealed`: what each step applies, on every member."""

    def __init__(self, sealed: int = -1) -> None:
        self.sealed = sealed
        self._items: dict[int, list[dict[str, Any]]] = {}
        self.duplicates = 0  # batches (or parts of them) already had: a QoS 1 redelivery

    def add(self, step: int, items: list[dict[str, Any]]) -> None:
        if items:
            self._items.setdefault(step, []).extend(items)

    def seal(self, through: int) -> None:
        self.sealed = max(self.sealed, through)

    def accept(self, batch: Batch) -> bool:
        """Take a follower's batch. False when it leaves a gap (something was missed: restore)."""
        if batch.sealed <= self.sealed:
            self.duplicates += 1
            return True
        if batch.first > self.sealed + 1:
            return False
        for step, items in batch.items.items():
            if step > self.sealed:
                self.add(step, items)
        self.sealed = batch.sealed
        return True

    def take(self, step: int) -> list[dict[str, Any]]:
        """The items of ``step`` (and drop any older, already run)."""
        for old in [s for s in self._items if s < step]:
            del self._items[old]
        return self._items.pop(step, [])

    def beyond(self, step: int) -> dict[int, list[dict[str, Any]]]:
        """The items scheduled after ``step`` (what a snapshot taken at ``step`` must carry)."""
        return {s: list(items) for s, items in self._items.items() if s >= step}

    def rebase(self, sealed: int, items: Mapping[int, Iterable[dict[str, Any]]]) -> None:
        """From a snapshot: the items it carries (up to its ``sealed``) and those this member
        already holds beyond them, so the batches that came meanwhile are not asked for again."""
        mine = {step: values for step, values in self._items.items() if step > sealed}
        self._items = {int(step): list(values) for step, values in items.items() if int(step) <= sealed}
        self._items.update(mine)
        self.sealed = max(self.sealed, sealed)


# -- the show clock -----------------------------------------------------------------------------

@dataclass
class ShowClock:
    """The leader's step against wall time, from its latest batch."""

    step: int = 0
    wall: float = 0.0
    step_hz: float = 60.0
    sealed: int = -1

    def follow(self, batch: Batch) -> None:
        self.step, self.wall, self.step_hz, self.sealed = batch.step, batch.wall, batch.step_hz, batch.sealed

    def leader_step(self, wall_now: float) -> float:
        """Where the leader is now (in steps, fractional), by its last word and the step rate;
        never past what it has sealed (a leader that runs late seals no further)."""
        estimate = self.step + max(0.0, wall_now - self.wall) * self.step_hz
        return min(estimate, float(self.sealed + 1))


# -- leadership ---------------------------------------------------------------------------------

@dataclass
class Presence:
    member: str
    priority: int
    online: bool
    heard: float  # our monotonic time when last heard
    role: str = "follower"
    step: int = 0
    epoch: int = 0


class Election:
    """Who leads: the retained claim with the highest epoch, while its member lives."""

    def __init__(self, me: Member, timeout_s: float = LEADER_TIMEOUT_S) -> None:
        self.me = me
        self.timeout_s = timeout_s
        self.leader: str | None = None
        self.epoch = 0
        self.members: dict[str, Presence] = {}

    def hear(self, presence: Presence) -> None:
        self.members[presence.member] = presence

    def alive(self, name: str, now: float) -> bool:
        if name == self.me.name:
            return True
        presence = self.members.get(name)
        return presence is not None and presence.online and now - presence.heard <= self.timeout_s

    def claim_heard(self, leader: str, epoch: int) -> bool:
        """A claim on the retained topic: accepted if newer than the one known (True)."""
        if epoch < self.epoch or (epoch == self.epoch and self.leader is not None and leader != self.leader
                                  and self._rank(leader) > self._rank(self.leader)):
            return False
        self.leader, self.epoch = leader, epoch
        return True

    def _rank(self, name: str) -> tuple[int, str]:
        if name == self.me.name:
            return (self.me.priority, name)
        presence = self.members.get(name)
        return (presence.priority if presence else 1000, name)

    def should_claim(self, now: float) -> bool:
        """True when this member must claim the lead now: no living leader, and it ranks best
        of the living members."""
        if self.leader is not None and self.alive(self.leader, now):
            return False
        living = [name for name in self.members if name != self.leader and self.alive(name, now)]
        return min([self.me.name, *living], key=self._rank) == self.me.name

    def claim(self) -> int:
        """Take the lead: the next epoch."""
        self.leader, self.epoch = self.me.name, self.epoch + 1
        return self.epoch

    @property
    def leading(self) -> bool:
        return self.leader == self.me.name
