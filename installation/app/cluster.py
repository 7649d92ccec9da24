"""One member of a Myco cluster over the MQTT broker (``myco run --venue FILE --member NAME``).

The rules and messages are pure (``installation.core.cluster``); this is their paho side and
their place in the runtime: the engine's input tap (:meth:`ClusterMember.tap`), the pace of its
steps (:meth:`ClusterMember.may_step`, :meth:`ClusterMember.wait`), the batch published after
each tick, the retained snapshot, presence and the election. paho calls back in its own
thread; everything it touches is behind one lock, and the engine is only ever touched by the
runtime's thread (a snapshot that arrives is adopted at the next tick).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from installation.core.cluster import (
    DELAY_STEPS,
    LEADER_TIMEOUT_S,
    PRESENCE_EVERY_S,
    RENDER_GROUP,
    ROOM_EVERY_STEPS,
    STATE_EVERY_S,
    Batch,
    ClusterSpec,
    Election,
    Presence,
    ProtocolError,
    Schedule,
    ShowClock,
    Topics,
    decode_input,
    decode_message,
    decode_preset_file,
    decode_reading,
    decode_room,
    decode_tempo,
    decode_wall,
    encode_input,
    encode_message,
    encode_preset_file,
    encode_reading,
    encode_room,
    encode_tempo,
    encode_wall,
)
from installation.core.events import Input
from installation.core.frames import NodeReading
from installation.core.snapshot import Snapshot, SnapshotError, decode, encode
from installation.core.tempo import Tempo
from installation.engine import Engine
from installation.inputs.mqtt import BrokerUrl, new_client
from installation.nodes.mux import NodeMux

if TYPE_CHECKING:
    from installation.app.runtime import Runtime

log = logging.getLogger(__name__)
ASK_EVERY_S = 1.0  # a member that missed steps asks the leader for a fresh snapshot this often
JOIN_WAIT_S = 3.0  # a joiner waits this long for the retained snapshot before starting from step 0
CATCH_UP_S = 0.5  # a follower further behind a snapshot than this takes it rather than replay the steps
ASK_BEHIND_S = 1.0  # and asks for one when this far behind the show clock (not closer: each costs every member)
# A follower runs step s while s < its estimate of the leader's step - this shift. The leader
# runs a step as soon as its clock passes it, so its count (a batch's step, the estimate's start)
# is its clock rounded up; the shift puts a follower's count at the leader's. With + 0.5 instead
# (before December 2026) followers led by 1.2 frames at p50, 1.5 at p99, with no renderer.
FOLLOW_SHIFT_STEPS = 0.5
RECONNECT_S = 1  # tries the broker again this often: every member is back within it after a restart
LEADER_GRACE_S = 1.0  # the venue's leader listens this long for a living leader before claiming
FIRST_LEADER_WAIT_S = 20.0  # a follower that never heard a claim waits this long for the venue's leader
SESSION_EXPIRY_S = 300  # the broker keeps a member's subscriptions and QoS 1 messages this long
KEEPALIVE_S = 2
STAMPS_KEPT = 150  # the last frames' stamps in /status (rebuilt once a second: about two seconds of them)
WALL_EVERY_STEPS = 30  # the leader stamps its wall clock into the steps every half second
# a source's tempo that the show's already keeps (a steady clock) is stamped again only this often,
# so every member still hears it lead; one that parts from it by this much of a beat at once
TEMPO_PHASE_BEATS = 0.01
GpuState = Callable[[], tuple[dict[str, Any], dict[str, Any]]]
F = TypeVar("F", bound=Callable[..., None])
T = TypeVar("T")


def _guarded(method: F) -> F:
    """An exception in a paho callback would kill its network thread: count it and go on."""
    @functools.wraps(method)
    def wrapper(self: ClusterMember, *args: Any) -> None:
        try:
            method(self, *args)
        except Exception:
            log.exception("cluster callback %s", method.__name__)
            self.count("handler_error")

    return wrapper  # type: ignore[return-value]


def adopt(engine: Engine, snapshot: Snapshot) -> None:
    """Put the show where ``snapshot`` was: its act and position, its preset (and seed), then the
    whole organism (``Engine.restore``). Raises SnapshotError (or KeyError, ValueError, TypeError)."""
    manifest = snapshot.manifest
    if manifest.get("show") != engine.player.show.name:
        raise SnapshotError(f"it is of show {manifest.get('show')!r}, this member plays {engine.player.show.name!r}")
    engine.player.jump(int(manifest["act_index"]), float(manifest["position_s"]))
    engine.player.advance(0.0)  # where the show is, not an act change to morph
    engine.recall(str(manifest["engine"]["preset"]), crossfade_s=0.0)  # its seed too
    engine.restore(snapshot)


class ClusterMember:
    def __init__(self, spec: ClusterSpec, name: str, runtime: Runtime) -> None:
        self.spec = spec
        self.me = spec.member(name)
        self.runtime = runtime
        self.engine = runtime.engine
        self.topics = Topics(spec.namespace)
        self.broker = BrokerUrl.parse(spec.broker)
        self.election = Election(self.me)
        self.schedule = Schedule()
        self.clock = ShowClock(step_hz=self.engine.step_hz)
        self.counters: dict[str, int] = {}
        self.gpu: GpuState | None = None  # the renderer's part of the snapshot (set by the output)
        self.state_bytes = 0  # the last snapshot published or adopted
        self.preview_step = -1  # the step of the last preview (previews are taken at the same steps)
        self.takeovers = 0
        self.connected = False
        self._lock = threading.Lock()
        self._pending: dict[int, list[dict[str, Any]]] = {}  # the leader's items not yet published
        self._published = -1  # the last step sealed in a published batch
        self._state: Snapshot | None = None  # a snapshot received, for the runtime's thread to adopt
        self._need_state = False  # a gap in the batches: stop until a snapshot comes
        self._last_state = -STATE_EVERY_S
        self._asked = 0.0
        self._state_act = (-1, -1)
        self._last_election = 0.0
        self._origin = (0, time.monotonic())  # the leader's pace: (step, monotonic) it counts from
        self._started = time.monotonic()
        self._connected_at = self._started  # the others' presence needs a moment after each (re)connect
        self._forward: list[Input] = []  # what the followers sent the leader, for its next step
        self._target = 0  # the step the leader's inputs of this step are scheduled for
        self._readings: list[dict[str, Any]] = []  # this step's node readings, from tap() to gate()
        # (wall time, step) at the end of each tick that stepped: when each frame's world was
        # ready, for comparing members' frames against the one clock (benchmarks/bench_cluster.py)
        self._stamps: deque[tuple[float, int]] = deque(maxlen=STAMPS_KEPT)
        # the opening hours read the leader's wall clock as stamped into the steps, not this machine's
        self._wall = time.time()  # (its own until the first stamp, DELAY_STEPS steps in)
        self.engine.hours.clock = lambda: datetime.fromtimestamp(self._wall, UTC)
        # presence from a thread of its own: a frame that takes long (a snapshot read back on a
        # loaded machine) must not look like a dead member and start an election
        self._stopping = threading.Event()
        self._beating = threading.Thread(target=self._beat, name="myco-cluster-presence", daemon=True)
        self._client = new_client(self.broker, f"myco-{spec.namespace.replace('/', '-')}-{name}", spec.ca_file,
                                  mqtt.MQTTProtocolVersion.MQTTv5)
        self._client.reconnect_delay_set(RECONNECT_S, RECONNECT_S)
        self._client.max_queued_messages_set(0)  # QoS 1 messages wait for the broker however long it is away
        self._client.will_set(self.topics.presence(name), self._presence(online=False), qos=1)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        if isinstance(self.engine.world, NodeMux):  # the live nodes' readings travel as stepped inputs too
            self.engine.world.gate = self.gate
        # every member runs the tempo on the show's own time, so the beat (LFOs, launches) is the same
        # everywhere; the sources (a tap, MIDI clock, Link) steer `outside`, on this machine's clock,
        # whose changes the leader stamps into the steps (a follower's own are ignored)
        self.engine.clock = lambda: self.engine.t
        self.engine.tempo.locate(0.0, 0.0)
        self.outside = Tempo(self.engine.tempo.bpm)
        self.engine.tempo.outside = self.outside
        self._outside_seen = self.outside.changes
        self._show_seen = (self.engine.tempo.manual_changes, self.engine.tempo.running)
        self._tempo_stamped = -WALL_EVERY_STEPS  # the step of the last tempo stamp
        # the room.* sources read the leader's room as stepped, not this machine's microphone
        self.engine.modulation.shared_room = {}
        self._room_stamped: dict[str, float] = {}
        # a preset file saved during the show: the leader steps its text, a follower's own copy waits
        self.engine.preset_edited = self.preset_edited
        self._edited: tuple[str, str] | None = None  # the last edit taken up (a joiner's snapshot carries it)

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Connect; a follower waits (at most :data:`JOIN_WAIT_S`) for the retained snapshot and
        takes it before the first step; the venue's leader claims the lead if nobody holds it."""
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
        self._client.connect_async(self.broker.host, self.broker.port, keepalive=KEEPALIVE_S, clean_start=False,
                                   properties=properties)
        self._client.loop_start()
        self._beating.start()
        # the retained snapshot may be seconds old: a fresh one from whoever leads spares replaying them
        self._publish(self.topics.request(self.me.name), encode_message({"member": self.me.name}))
        log.info("cluster member %s (%s) connecting to %s, namespace %s", self.me.name, self.me.role, self.broker,
                 self.spec.namespace)
        deadline = time.monotonic() + (LEADER_GRACE_S if self.me.role == "leader" else JOIN_WAIT_S)
        while time.monotonic() < deadline:
            with self._lock:
                if self._state is not None and self.me.role != "leader":
                    break
            time.sleep(0.05)
        self.adopt_pending()
        self._elect(time.monotonic())

    def stop(self) -> None:
        self._stopping.set()
        self._beating.join(timeout=2.0)
        self._publish(self.topics.presence(self.me.name), self._presence(online=False))
        self._client.disconnect()
        self._client.loop_stop()
        self._client.reinitialise()  # closes paho's socket pair now (see inputs/mqtt.py)

    @property
    def leading(self) -> bool:
        return self.election.leading

    def count(self, what: str) -> None:
        self.counters[what] = self.counters.get(what, 0) + 1

    # -- the engine's side (the runtime's thread) ---------------------------------------------
    def tap(self, step: int, drained: list[Input]) -> list[Input]:
        """The inputs step ``step`` applies: the leader schedules its own for later steps (and
        applies what it scheduled for this one), a follower forwards its own to the leader. The
        step's node readings wait for the mux (:meth:`gate`, in the same engine step); the
        leader's wall clock, tempo, room and edited preset are taken up here, on every member."""
        encoded = [encode_input(item) for item in drained]
        forward = b""
        with self._lock:
            if self.leading:
                encoded += [encode_input(item) for item in self._forward]
                self._forward = []
                if step % WALL_EVERY_STEPS == 0:  # the schedule's clock, the same on every member at a step
                    encoded.append(encode_wall(time.time()))
                self._target = max(step + DELAY_STEPS, self.schedule.sealed + 1)
                encoded += self._tempo_items(step)
                if step % ROOM_EVERY_STEPS == 0:
                    encoded += self._room_items()
                self._schedule(encoded)
            elif encoded:
                forward = encode_message({"items": encoded})
            items = self.schedule.take(step)
        if forward:
            self._publish(self.topics.forward(self.me.name), forward)
        self._readings = [data for data in items if data.get("k") == "reading"]
        inputs: list[Input] = []
        engine = self.engine
        for data in items:
            kind = data.get("k")
            if kind == "wall":
                self._wall = self._decoded(decode_wall, data) or self._wall
            elif kind == "tempo":
                if (stamp := self._decoded(decode_tempo, data)) is not None:
                    engine.tempo.take(engine.now, stamp)
            elif kind == "room":
                if (room := self._decoded(decode_room, data)) is not None:
                    engine.modulation.shared_room = room
            elif kind == "preset_file":
                if (edited := self._decoded(decode_preset_file, data)) is not None and engine.reload_preset(*edited):
                    self._edited = edited
            elif kind != "reading" and (item := self._decoded(decode_input, data)) is not None:
                inputs.append(item)
        self._show_seen = (engine.tempo.manual_changes, engine.tempo.running)
        return inputs

    def _tempo_items(self, step: int) -> list[dict[str, Any]]:
        """The leader's tempo as its sources moved it since the last step (under the lock). The
        operator's changes (``tempo.*``, stepped parameters already in the show's tempo) go the
        other way, into ``outside``, so the sources' rules (a clock that leads) see them."""
        engine, outside = self.engine, self.outside
        show = engine.tempo
        now = time.monotonic()
        outside.set_follow(show.follow)
        outside.set_beats_per_bar(show.beats_per_bar)
        if (show.manual_changes, show.running) != self._show_seen:
            outside.take(now, show.stamp(engine.now))
            self._outside_seen = outside.changes
        if outside.changes == self._outside_seen:
            return []
        self._outside_seen = outside.changes
        ahead = (self._target - step) * engine.dt  # the beat where the show will be when it applies
        stamp, expected = outside.stamp(now + ahead), show.stamp(engine.now + ahead)
        if (step - self._tempo_stamped < WALL_EVERY_STEPS and (stamp.bpm, stamp.running, stamp.source)
                == (expected.bpm, expected.running, expected.source)
                and abs(stamp.beat - expected.beat) < TEMPO_PHASE_BEATS):
            return []
        self._tempo_stamped = step
        return [encode_tempo(stamp)]

    def _room_items(self) -> list[dict[str, Any]]:
        """The leader's room (its microphone's features, as the runtime hands them to its
        modulator) when it changed (under the lock)."""
        item = encode_room(self.engine.modulation.room)
        if item["room"] == self._room_stamped:
            return []
        self._room_stamped = item["room"]
        return [item]

    def preset_edited(self, name: str, text: str) -> None:
        """A preset file saved during the show (the engine's poll, in its step): the leader steps
        the text it read to every member; a follower ignores its own copy (the leader's comes)."""
        with self._lock:
            if self.leading:
                self._schedule([encode_preset_file(name, text)])
                return
        log.info("cluster: preset %s saved here; a follower takes the leader's", name)

    def gate(self, drained: list[NodeReading]) -> list[NodeReading]:
        """The node readings the mux takes at this step: those scheduled for it. The leader's own
        (its OSC and MQTT listeners feed its mux) are scheduled like its other inputs."""
        if drained and self.leading:
            with self._lock:
                self._schedule([encode_reading(reading) for reading in drained])
        readings, self._readings = self._readings, []
        return [reading for data in readings if (reading := self._decoded(decode_reading, data)) is not None]

    def _decoded(self, decode: Callable[[dict[str, Any]], T], data: dict[str, Any]) -> T | None:
        """An item of the steps, decoded; one that is not ours is counted and skipped (the
        engine's step must not fail on what came over the network)."""
        try:
            return decode(data)
        except (ProtocolError, KeyError, TypeError, ValueError) as error:
            log.warning("cluster: dropped a stepped item: %s", error)
            self.count("malformed")
            return None

    def _schedule(self, encoded: list[dict[str, Any]]) -> None:
        """The leader's items for :attr:`_target` (under the lock; published after the tick)."""
        self.schedule.add(self._target, encoded)
        self._pending.setdefault(self._target, []).extend(encoded)
        self.schedule.seal(self._target)

    def may_step(self, ran: int) -> bool:
        """Whether the runtime may run the next step now: the leader keeps its own wall pace, a
        follower the leader's (never past what is sealed); a tick ends at a render group's end,
        so the hyphae advance by whole groups on every member."""
        step = self.engine.step_count
        if ran and step % RENDER_GROUP == 0:
            return False
        with self._lock:
            if self.leading:
                origin_step, origin = self._origin
                return step < origin_step + (time.monotonic() - origin) * self.engine.step_hz
            if self._need_state or self._state is not None or step > self.schedule.sealed:
                return False
            return step < self.clock.leader_step(time.time()) - FOLLOW_SHIFT_STEPS

    def wait(self) -> float:
        """How long the runtime may sleep before the next step could be due."""
        step = self.engine.step_count
        with self._lock:
            if self.leading:
                origin_step, origin = self._origin
                ahead = (step - origin_step) / self.engine.step_hz - (time.monotonic() - origin)
            else:
                ahead = (step + FOLLOW_SHIFT_STEPS - self.clock.leader_step(time.time())) / self.engine.step_hz
        return min(max(0.0, ahead), 0.01)

    def after_tick(self) -> None:
        """After the tick's steps: the leader publishes its batch; everyone says it lives and
        checks who leads; a snapshot that arrived is adopted."""
        now = time.monotonic()
        if not self._stamps or self._stamps[-1][1] != self.engine.step_count:
            self._stamps.append((round(time.time(), 4), self.engine.step_count))
        self.adopt_pending()
        batch = None
        with self._lock:
            if self.leading and self.schedule.sealed > self._published:
                batch = Batch(self.election.epoch, self.me.name, self._published + 1, self.schedule.sealed,
                              self.engine.step_count, time.time(), self.engine.step_hz, self._pending)
                self._pending = {}
                self._published = self.schedule.sealed
            behind = not self.leading and self.clock.leader_step(time.time()) - self.engine.step_count
            # a gap, or a replay that would take longer than a fresh snapshot (a joiner, a slow member)
            ask = ((self._need_state or behind > ASK_BEHIND_S * self.engine.step_hz)
                   and now - self._asked >= ASK_EVERY_S and self.connected)
            if ask:
                self._asked = now
        if batch is not None:
            self._publish(self.topics.steps, batch.encode())
        if ask:  # the leader answers with a fresh snapshot: the quickest way back into step
            self._publish(self.topics.request(self.me.name), encode_message({"member": self.me.name}))
        if now - self._last_election >= PRESENCE_EVERY_S:
            self._last_election = now
            self._elect(now)

    def _beat(self) -> None:
        while not self._stopping.wait(PRESENCE_EVERY_S):
            self._publish(self.topics.presence(self.me.name), self._presence(online=True))

    def maybe_publish_state(self) -> None:
        """The leader's retained snapshot, every :data:`STATE_EVERY_S` and at each act change,
        taken at a render group's end (the picture and the world at the same step)."""
        engine = self.engine
        act = (engine.player.act_index, engine.act_changes)
        now = time.monotonic()
        if (not self.leading or engine.step_count % RENDER_GROUP
                or (now - self._last_state < STATE_EVERY_S and act == self._state_act)):
            return
        self._last_state, self._state_act = now, act
        try:
            snapshot = engine.save_snapshot()
        except TypeError as error:
            log.warning("cluster: no snapshot to share: %s", error)
            return
        if self.gpu is not None:
            try:
                meta, arrays = self.gpu()
            except Exception as error:
                log.warning("cluster: snapshot without the picture: %s", error)
            else:
                snapshot.manifest["gpu"] = meta
                snapshot.arrays.update({f"gpu.{name}": array for name, array in arrays.items()})
        with self._lock:
            snapshot.manifest["cluster"] = {
                "epoch": self.election.epoch, "leader": self.me.name, "sealed": self.schedule.sealed,
                "published": self._published, "wall": self._wall,
                "tempo": engine.tempo.save_state(), "room": dict(engine.modulation.shared_room or {}),
                "preset_file": (encode_preset_file(*self._edited)
                                if self._edited is not None and self._edited[0] == engine.preset.name else None),
                "items": {str(s): items for s, items in self.schedule.beyond(engine.step_count).items()}}
        payload = encode(snapshot, compressed=False)  # in the show's thread: 20 ms, not 500 (measured)
        self.state_bytes = len(payload)
        self._publish(self.topics.state, payload, retain=True)

    def adopt_pending(self) -> None:
        """Take a snapshot that arrived (the runtime's thread: it touches the engine)."""
        with self._lock:
            snapshot, self._state = self._state, None
        if snapshot is None:
            return
        try:
            adopt(self.engine, snapshot)
            info = snapshot.manifest["cluster"]
            self._wall = float(info.get("wall", self._wall))
            self.engine.tempo.restore_state(info["tempo"])  # the beat goes on as the leader's, bit for bit
            self.engine.modulation.shared_room = decode_room(info)
            if info["preset_file"] is not None:  # the current preset as edited during the show
                self._edited = decode_preset_file(info["preset_file"])
                self.engine.restore_edited_preset(*self._edited)
        except (SnapshotError, KeyError, ValueError, TypeError) as error:
            log.error("cluster: the leader's snapshot cannot be used: %s", error)
            self.count("state_rejected")
            with self._lock:
                self._need_state = True
            return
        self.count("state_adopted")
        log.info("cluster: caught up from the leader's snapshot at step %d (act %d, %.1f s)",
                 self.engine.step_count, self.engine.player.act_index + 1, self.engine.player.position_s)

    # -- status -----------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        now, wall = time.monotonic(), time.time()
        with self._lock:
            leader_step = (self.engine.step_count if self.leading else self.clock.leader_step(wall))
            members = [{"name": self.me.name, "role": "leader" if self.leading else "follower",
                        "priority": self.me.priority, "step": self.engine.step_count, "me": True,
                        "lag_steps": round(leader_step - self.engine.step_count, 1),
                        "lag_ms": round((leader_step - self.engine.step_count) * 1000 / self.engine.step_hz, 1),
                        "last_heard_s": 0.0, "online": True}]
            for presence in self.election.members.values():
                if presence.member == self.me.name:
                    continue
                behind = leader_step - (presence.step + (now - presence.heard) * self.engine.step_hz)
                members.append({"name": presence.member, "role": presence.role, "priority": presence.priority,
                                "step": presence.step, "me": False,
                                "lag_steps": round(behind, 1), "lag_ms": round(behind * 1000 / self.engine.step_hz, 1),
                                "last_heard_s": round(now - presence.heard, 2),
                                "online": self.election.alive(presence.member, now)})
            return {"member": self.me.name, "role": "leader" if self.leading else "follower",
                    "leader": self.election.leader, "epoch": self.election.epoch, "namespace": self.spec.namespace,
                    "broker": str(self.broker), "connected": self.connected,
                    "leader_step": round(leader_step, 1), "sealed": self.schedule.sealed,
                    "preview_step": self.preview_step, "waiting_for_state": self._need_state,
                    "state_bytes": self.state_bytes, "takeovers": self.takeovers,
                    "duplicates": self.schedule.duplicates, "rejected": dict(self.counters),
                    "stamps": list(self._stamps),
                    "members": sorted(members, key=lambda m: str(m["name"]))}

    # -- leadership -------------------------------------------------------------------------
    def _elect(self, now: float) -> None:
        with self._lock:
            if self.election.leading or not self.connected:
                return
            if self.me.role == "leader":
                grace = LEADER_GRACE_S
            elif self.election.leader is None:  # nobody has led yet: the venue's leader may just be slower to start
                grace = FIRST_LEADER_WAIT_S
            else:
                grace = LEADER_TIMEOUT_S + JOIN_WAIT_S
            # after a (re)connect, the others' presence needs the broker's and their own reconnect
            if (now - self._started < grace or now - self._connected_at < LEADER_TIMEOUT_S + RECONNECT_S
                    or not self.election.should_claim(now)):
                return
            was = self.election.leader
            epoch = self.election.claim()
            self._origin = (self.engine.step_count, now)
            # the sources it opens steer the tempo from where the show's is
            self.outside.take(time.monotonic(), self.engine.tempo.stamp(self.engine.now))
            self._outside_seen = self.outside.changes
            self._published = self.schedule.sealed
            self._need_state = False
        self._publish(self.topics.claim, encode_message({"leader": self.me.name, "epoch": epoch}), retain=True)
        if was is not None:
            self.takeovers += 1
            log.warning("cluster: %s took the lead from %s (epoch %d) at step %d", self.me.name, was, epoch,
                        self.engine.step_count)
        else:
            log.info("cluster: %s leads (epoch %d)", self.me.name, epoch)
        self.runtime.open_inputs()  # the leader owns the inputs

    # -- paho's thread ----------------------------------------------------------------------
    def _publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        self._client.publish(topic, payload, qos=1, retain=retain)

    def _presence(self, online: bool) -> bytes:
        return encode_message({"member": self.me.name, "priority": self.me.priority, "online": online,
                               "role": "leader" if self.election.leading else "follower",
                               "step": self.engine.step_count, "epoch": self.election.epoch})

    @_guarded
    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            log.warning("cluster: broker %s refused the connection: %s", self.broker, reason)
            return
        self.connected = True
        self._connected_at = time.monotonic()
        client.subscribe(self.topics.all, qos=1)
        log.info("cluster: connected to %s (session %s)", self.broker,
                 "resumed" if getattr(flags, "session_present", False) else "new")

    @_guarded
    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self.connected = False
        log.warning("cluster: disconnected from %s (%s); reconnecting", self.broker, reason)

    @_guarded
    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:
            self.count("malformed")
            return
        if not self.topics.inside(topic):
            self.count("outside_namespace")
            return
        try:
            self._handle(topic, bytes(message.payload))
        except (ProtocolError, SnapshotError, KeyError, TypeError, ValueError) as error:
            log.warning("cluster: dropped a message on %s: %s", topic, error)
            self.count("malformed")

    def _handle(self, topic: str, payload: bytes) -> None:
        now = time.monotonic()
        topics = self.topics
        if topic == topics.steps:
            batch = Batch.decode(payload)
            with self._lock:
                if batch.leader == self.me.name:
                    return  # our own, back from the broker
                if batch.epoch < self.election.epoch:
                    self.count("stale")  # an old leader's (or a replay)
                    return
                if batch.epoch > self.election.epoch:
                    self.election.claim_heard(batch.leader, batch.epoch)
                self._heard_leader(batch.leader, batch.step, now)
                self.clock.follow(batch)
                if not self._need_state and not self.schedule.accept(batch):
                    log.warning("cluster: missed steps %d..%d; waiting for the leader's snapshot",
                                self.schedule.sealed + 1, batch.first - 1)
                    self.count("gaps")
                    self._need_state = True
        elif topic == topics.claim:
            message = decode_message(payload)
            leader, epoch = str(message["leader"]), int(message["epoch"])
            with self._lock:
                was_leading = self.election.leading
                if not self.election.claim_heard(leader, epoch):
                    self.count("stale")
                elif was_leading and leader != self.me.name:
                    log.warning("cluster: %s leads now (epoch %d); %s follows", leader, epoch, self.me.name)
        elif topic == topics.state:
            snapshot = decode(payload)
            info = snapshot.manifest.get("cluster")
            if not isinstance(info, dict):
                raise ProtocolError("a snapshot without its cluster part")
            with self._lock:
                if self.leading or int(info["epoch"]) < self.election.epoch:
                    return
                ahead = int(snapshot.manifest["engine"]["step_count"]) - self.engine.step_count
                if self._need_state or ahead > (CATCH_UP_S * self.engine.step_hz if self.engine.step_count else 0):
                    # the batches from here on fill the schedule while the runtime's thread adopts it
                    self.schedule.rebase(int(info["sealed"]), {int(s): items for s, items in info["items"].items()})
                    self._state, self._need_state = snapshot, False
                    self.state_bytes = len(payload)
        elif topic.startswith(topics.presence("")):
            message = decode_message(payload)
            name = str(message["member"])
            if topic != topics.presence(name):
                raise ProtocolError("presence of another member than its topic's")
            if name == self.me.name:
                return  # our own, back from the broker
            with self._lock:
                self.election.hear(Presence(name, int(message["priority"]), bool(message["online"]), now,
                                            str(message.get("role", "follower")), int(message["step"]),
                                            int(message["epoch"])))
        elif topic.startswith(topics.request("")):
            with self._lock:
                if self.leading:
                    self._last_state = -STATE_EVERY_S  # at the next render group's end
        elif topic.startswith(topics.forward("")):
            items = decode_message(payload).get("items")
            if not isinstance(items, list):
                raise ProtocolError("forwarded items must be a list")
            decoded = [decode_input(item) for item in items]
            with self._lock:
                if self.leading:
                    self._forward.extend(decoded)
        else:
            self.count("unknown_topic")

    def _heard_leader(self, leader: str, step: int, now: float) -> None:
        presence = self.election.members.get(leader)
        if presence is not None:
            presence.heard, presence.step, presence.online = now, step, True


def start_cluster(runtime: Runtime) -> ClusterMember | None:
    """The member ``--member`` names in the venue's ``[cluster]``, started; None without one."""
    name, venue = runtime.options.member, runtime.venue
    if not name or venue is None or venue.cluster is None:  # compose.build_runtime checked that it is there
        return None
    member = ClusterMember(venue.cluster, name, runtime)
    member.start()
    return member
