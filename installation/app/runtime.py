"""The composition root without windows: engine, sound, inputs, status, health.

:class:`Runtime` is shared by the desktop app and ``--headless``. Its :meth:`Runtime.tick`
runs the engine's fixed steps that wall-clock time calls for (never more than
``MAX_CATCH_UP`` at once, so a stall is skipped rather than replayed at high speed), hands
each frame to the sound, and once a second rebuilds the status document for the status
server and the control window. Every part it starts it also stops, so closing the app
leaves no thread or process behind.
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from installation.app.health import ErrorLog, ErrorLogHandler
from installation.app.options import RunOptions
from installation.app.status import StatusServer, parse_address
from installation.app.watchdog import Heartbeat, WorldClock
from installation.app.wiring import Started, start_audio, start_inputs
from installation.core.frames import WorldFrame
from installation.core.params import Kind
from installation.core.venue import Venue
from installation.engine import Engine

if TYPE_CHECKING:
    from installation.app.cluster import ClusterMember

log = logging.getLogger(__name__)

MAX_CATCH_UP = 30  # half a second: even at 2 fps the show keeps real time; longer stalls are skipped
STATUS_PERIOD_S = 1.0


class VenueEdits:
    """Projection-mapping messages from OSC's thread, applied by the windows' front-end in the
    GUI thread (where the outputs live). Bounded: a flood is dropped, never queued without end."""

    LIMIT = 1024

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[str, list[Any]]] = queue.Queue(self.LIMIT)
        self.rejected = 0  # malformed ones, counted by the front-end when it applies them

    def offer(self, address: str, args: list[Any]) -> bool:
        try:
            self._queue.put_nowait((address, list(args)))
        except queue.Full:
            return False
        return True

    def drain(self) -> list[tuple[str, list[Any]]]:
        items = []
        while True:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                return items


class Runtime:
    def __init__(self, options: RunOptions, engine: Engine, venue: Venue | None = None) -> None:
        self.options = options
        self.engine = engine
        self.venue = venue  # the room (--venue): its outputs, schedule, projectors, speakers
        self.clock = WorldClock()  # the world's steps (a window's own paints: outputs_status)
        self.heartbeat = Heartbeat()  # systemd's watchdog and --supervise's file, beaten by the frame loop
        self.projector_clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # the projectors' schedule
        self.outputs_status: Callable[[], list[dict[str, Any]]] | None = None  # set by the windows' front-end
        self.venue_edits = VenueEdits()  # mapping edits over OSC, for the windows' front-end
        self.errors = ErrorLog()
        self._log_handler = ErrorLogHandler(self.errors)
        logging.getLogger("installation").addHandler(self._log_handler)
        self.parts: list[Started] = []
        self.audio: Any = None
        self.audio_notice = "off (--no-audio)" if not options.audio else "starting"
        self.output_notice = "" if options.visuals else "off (--no-visuals)"  # why there are no visuals
        self.status_server: StatusServer | None = None
        self.status: dict[str, Any] = {}
        self.started = time.monotonic()
        self._next_step = self.started
        self._last_status = 0.0
        self.late_steps = 0
        self.ticks = 0
        self.cluster: ClusterMember | None = None  # with --member: this machine's part of the cluster

    @property
    def venue(self) -> Venue | None:
        return self._venue

    @venue.setter
    def venue(self, venue: Venue | None) -> None:
        """The room; its schedule (re-read with the file) is the engine's opening hours."""
        self._venue = venue
        self.engine.hours.schedule = venue.schedule if venue is not None else None

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> Runtime:
        """Start sound, inputs and the status server; a part that fails is reported, the rest go on."""
        if self.options.audio:
            self.audio, self.audio_notice = start_audio(self.options, self.venue)
        from installation.app.cluster import start_cluster  # paho only where a cluster is asked for

        self.cluster = start_cluster(self)  # None without --member; a follower opens the inputs when it takes over
        if self.cluster is None:
            self.open_inputs()
        else:
            self.engine.tap = self.cluster.tap
        if self.venue is not None and self.venue.projectors:
            try:  # PJLink in a thread of its own: a projector that does not answer never holds the show
                from installation.app.projectors import start_projectors

                self.parts.append(start_projectors(lambda: self.venue, lambda: self.projector_clock()))
            except Exception as error:
                log.error("projectors could not start: %s (they stay as they are)", error)
        if self.options.status:
            host, port = parse_address(self.options.status)
            # the remote page's commands go to the engine's one dispatcher, as MIDI's and OSC's do
            self.status_server = StatusServer(
                host, port, self.options.status_token, control=self.engine.inputs.put,
                log_lines=lambda count: [entry.as_dict() for entry in self.errors.last(count)],
                frame_age=self.clock.age)
        # The first whole status before serving: a client never reads a document without its parts.
        self.publish_status()
        if self.status_server is not None:
            self.status_server.start()
        return self

    def open_inputs(self) -> None:
        """OSC, MQTT and MIDI as the options ask (a cluster's leader's alone)."""
        # Mapping edits over OSC go to the windows' outputs; headless there are none to map.
        sink = None if self.options.headless else self.venue_edits.offer
        self.parts.extend(start_inputs(self.options, self.engine, self.audio, sink))

    def stop(self) -> None:
        """Stop everything started, newest first; safe to call twice."""
        self.heartbeat.stopping()
        if self.cluster is not None:
            self.cluster.stop()
            self.cluster = None
        if self.status_server is not None:
            self.status_server.stop()
            self.status_server = None
        while self.parts:
            part = self.parts.pop()
            try:
                part.stop()
            except Exception as error:  # one part failing to stop must not keep the others running
                log.error("stopping %s: %s", part.name, error)
        if self.audio is not None:
            try:
                self.audio.stop()
            except Exception as error:
                log.error("stopping audio: %s", error)
            self.audio = None
        logging.getLogger("installation").removeHandler(self._log_handler)

    # -- the tick ---------------------------------------------------------------------------
    def tick(self, now: float | None = None) -> list[WorldFrame]:
        """Run the fixed steps due by ``now`` (monotonic seconds); returns the frames made."""
        now = time.monotonic() if now is None else now
        frames: list[WorldFrame] = []
        dt = self.engine.dt
        cluster = self.cluster  # a member keeps the cluster's pace, not its own wall clock
        while len(frames) < MAX_CATCH_UP and (self._next_step <= now if cluster is None
                                              else cluster.may_step(len(frames))):
            frames.append(self.engine.step())
            self._next_step += dt
        if cluster is not None:
            cluster.after_tick()
        elif self._next_step <= now:
            skipped = int((now - self._next_step) / dt) + 1
            self.late_steps += skipped
            self._next_step += skipped * dt
        if frames and self.audio is not None:
            try:
                # one message for the tick: the last state with every step's events (spikes, cues)
                tempo = self.engine.tempo
                self.audio.push_steps(frames, self.engine.bank.snapshot(), tempo.beat_at(self.engine.now), tempo.bpm)
                self.engine.modulation.room = self.audio.features()  # the room's sound, for the next steps
            except Exception as error:
                self.audio_failed(error)
        self.ticks += 1
        if now - self._last_status >= STATUS_PERIOD_S:
            self.publish_status(now)
        return frames

    def seconds_to_next_step(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        wait = max(0.0, self._next_step - now)
        return wait if self.cluster is None else self.cluster.wait()

    def audio_failed(self, error: BaseException) -> None:
        """A lost audio device keeps the visuals: drop the sound, say why."""
        log.error("audio stopped: %s (the visuals go on)", error)
        self.audio_notice = f"stopped: {error}"
        audio, self.audio = self.audio, None
        try:
            audio.stop()
        except Exception:  # already broken; nothing more to report
            pass

    # -- status -----------------------------------------------------------------------------
    def publish_status(self, now: float | None = None) -> dict[str, Any]:
        self._last_status = time.monotonic() if now is None else now
        self.status = self.build_status()
        if self.status_server is not None:
            self.status_server.publish(self.status)
        return self.status

    def build_status(self) -> dict[str, Any]:
        engine = self.engine
        player = engine.player
        bank = engine.bank
        params: dict[str, Any] = {}
        for spec in bank.specs():
            value = bank.get(spec.name)
            params[spec.name] = list(value) if spec.kind is Kind.COLOR else value  # type: ignore[arg-type]
        return {
            "state": "running",
            "show": player.show.name,
            "show_title": player.show.title,
            "act": player.act.title,
            "act_index": player.act_index,
            "acts": len(player.show.acts),
            "position_s": round(player.position_s, 3),
            "time_left_s": round(player.time_left_s, 3),
            "loop": player.loop,
            "preset": engine.current_preset().name,
            "look": engine.current_look(),
            "decks": engine.decks.status(),  # the A/B crossfader (core/decks.py)
            # bpm, source, beat and bar (core/tempo.py), on the tempo's clock (a cluster's: the show's time)
            "tempo": engine.tempo.status(engine.clock()),
            "effects": engine.effects.status(),  # the ISF chain in order (core/effects.py)
            "step": engine.step_count,
            "uptime_s": round(time.monotonic() - self.started, 3),
            "fps": round(self.clock.fps(), 2),  # the world's: one step per frame for every output
            "frame_ms": self.clock.percentiles_ms(),
            "world_frames": self.clock.frames,
            "outputs": self.outputs_status() if self.outputs_status is not None else [],
            "late_steps": self.late_steps,
            "blackout": bank.get("render.blackout") if "render.blackout" in bank else 0.0,
            "schedule": engine.hours.status(),  # open or closed, since when, the next change
            "visuals": self.output_notice or "on",
            "audio": self.audio_status(),
            "params": params,
            "nodes": nodes_status(engine.latest),
            "inputs": self.input_counters(),
            "projectors": self.projectors_status(),
            "errors": [entry.as_dict() for entry in self.errors.last(10)],
            "errors_total": self.errors.total,
            "presets": self.engine.presets.names(),  # what the remote page's preset picker offers
            "cluster": self.cluster.status() if self.cluster is not None else None,  # members, roles, lag, epoch
        }

    def part(self, name: str) -> Any:
        """The handle of a started input (``"midi"``, ``"osc"``, ``"mqtt"``), or None."""
        return next((p.handle for p in self.parts if p.name == name), None)

    def input_counters(self) -> dict[str, Any]:
        """Per-source counters: node data (from the mux) and each started listener's own."""
        counters: dict[str, Any] = {}
        world_counters = getattr(self.engine.world, "counters", None)
        if world_counters is not None:
            counters.update(world_counters.snapshot())
        for part in self.parts:
            if part.input:
                counters[part.name] = {**counters.get(part.name, {}), **part.figures()}
        if "osc" in counters:  # mapping edits that reached the app but named no output or value it has
            counters["osc"]["mapping_rejected"] = self.venue_edits.rejected
        return counters

    def projectors_status(self) -> list[dict[str, Any]]:
        """Each venue projector's power, lamp hours, errors and reachability (never waits on one)."""
        projectors = self.part("projectors")
        return projectors.status() if projectors is not None else []

    def audio_status(self) -> dict[str, Any]:
        if self.audio is None:
            return {"running": False, "load": 0.0, "underflows": 0, "device": None, "notice": self.audio_notice}
        try:
            status = dict(self.audio.status())
        except Exception as error:
            self.audio_failed(error)
            return self.audio_status()
        status.setdefault("running", True)
        status["notice"] = self.audio_notice
        return status


def nodes_status(frame: WorldFrame) -> dict[str, Any]:
    """Each node's last reading, and whether it is a live sensor or the simulation."""
    nodes: dict[str, Any] = {}
    for index, node in enumerate(frame.node_ids):
        nodes[node] = {
            "live": bool(frame.live[index]),
            "last": {
                "potential_mv": round(float(frame.potential_mv[index]), 4),
                "toxin": round(float(frame.toxin[index]), 4),
                "waste": round(float(frame.waste[index]), 4),
                "moisture": round(float(frame.moisture[index]), 4),
                "activity": round(float(frame.activity[index]), 4),
                "x": round(float(frame.positions[index, 0]), 4),
                "y": round(float(frame.positions[index, 1]), 4),
            },
        }
    return nodes
