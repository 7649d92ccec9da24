"""The mux: live nodes and the simulation behind one WorldSource.

Listener threads call :meth:`NodeMux.offer` (validate, rate-limit, count, enqueue: never
blocks, never raises). The engine thread calls :meth:`NodeMux.step`, which drains the queue,
lets unknown nodes join the kernel's network (up to ``nodes.max_joined``), steps the kernel,
and then overrides each live node's values with its sensor data. A node silent for longer
than ``nodes.silence_s`` cross-fades back to its simulated twin over ``nodes.fade_s``; when
data returns it fades back to live. Spikes in live data (a deviation from the node's
running baseline, with hysteresis) become spike events and excite the node's neighbours.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from installation.core.events import Event, EventKind
from installation.core.frames import NodeReading, WorldFrame
from installation.core.params import Value
from installation.core.seeds import Seed
from installation.nodes.counters import Counters
from installation.nodes.live import MEASURED, LiveNode, LiveTable
from installation.nodes.params import param_specs
from installation.nodes.ratelimit import RateLimiter
from installation.nodes.recording import Replay
from installation.nodes.validate import Rejection, validate
from installation.sim.kernel import Kernel
from installation.sim.spikes import ADAMATZKY_2022

DEFAULTS = {spec.name.removeprefix("nodes."): float(spec.default) for spec in param_specs()}  # type: ignore[arg-type]


def place(node_id: str) -> tuple[float, float]:
    """Where a node that sent no position joins: stable for its id, away from the edges."""
    digest = hashlib.sha256(node_id.encode()).digest()
    return 0.1 + 0.8 * digest[0] / 255.0, 0.1 + 0.8 * digest[1] / 255.0


class NodeMux:
    def __init__(self, kernel: Kernel, *, counters: Counters | None = None, limiter: RateLimiter | None = None,
                 capacity: int = 8192, replay: Replay | None = None) -> None:
        self.kernel = kernel
        self.counters = counters or Counters()
        self.limiter = limiter or RateLimiter()
        self.replays: list[Replay] = [replay] if replay else []
        # Called with every reading the engine takes, and the mux time (recording).
        self.taps: list[Callable[[NodeReading, float], None]] = []
        # Which readings a step takes of those drained (a cluster member's: the leader's, at the
        # step they were scheduled for, on every member; app/cluster.py); None: all of them.
        self.gate: Callable[[list[NodeReading]], list[NodeReading]] | None = None
        self._live = LiveTable()
        self._where_key = (-1, -1)
        self._where = np.zeros(0, np.int64)
        self.t = 0.0
        self.latencies: deque[float] = deque(maxlen=4096)
        self._queue: deque[tuple[NodeReading, float]] = deque()
        self._capacity = capacity
        self._lock = threading.Lock()
        # Rebuilt by the engine thread and swapped in whole, so other threads never see it torn.
        self._published: dict[str, object] = {"live": [], "joined": 0, "latency_ms_p50": None}

    # -- any thread -----------------------------------------------------------------------------
    def offer(self, source: str, node_id: object, values: Mapping[Any, object]) -> bool:
        """Validate and enqueue one reading from a listener; counts it either way."""
        return self.offer_many(source, [(node_id, values)]) == 1

    def offer_many(self, source: str, items: Sequence[tuple[object, Mapping[Any, object]]]) -> int:
        """Validate and enqueue readings that arrived together (a datagram burst, a batch message),
        counting them all; a batch takes each lock once, not once per reading. Returns how many were
        accepted."""
        counters = self.counters
        allowed = self._admit(source, len(items), len(items))
        readings: list[NodeReading] = []
        for node_id, values in items[:allowed]:
            reading = validate(node_id, values, t=0.0, source=source)
            if isinstance(reading, Rejection):
                counters.dropped(source, reading.reason)
            else:
                readings.append(reading)
        return self._enqueue(source, readings)

    def offer_valid(self, source: str, readings: Sequence[NodeReading], rejected: Mapping[str, int]) -> int:
        """Enqueue readings validated elsewhere (a listener's own process), counting them and the
        ``rejected`` (by reason) there; the rate limit applies here. Returns how many were accepted."""
        allowed = self._admit(source, len(readings) + sum(rejected.values()), len(readings))
        for reason, count in rejected.items():
            self.counters.dropped(source, reason, count)
        return self._enqueue(source, list(readings[:allowed]))

    def _admit(self, source: str, received: int, wanted: int) -> int:
        """Count ``received`` from ``source`` and let ``wanted`` of them through its rate limit,
        counting the rest as dropped; returns how many may go on."""
        self.counters.received(source, received)
        allowed = self.limiter.take(source, wanted)
        if allowed < wanted:
            self.counters.dropped(source, "rate_limited", wanted - allowed)
        return allowed

    def has_room(self, count: int) -> bool:
        """Whether ``count`` more readings fit the queue (an empty queue takes any batch, counting what
        does not fit): a listener that can hold back (a pipe, a broker) waits for the next step instead."""
        queued = len(self._queue)
        return queued == 0 or queued + count <= self._capacity

    def push(self, reading: NodeReading) -> bool:
        """Enqueue a reading that is already valid (a replay, a test)."""
        self.counters.received(reading.source)
        return self._enqueue(reading.source, [reading]) == 1

    def _enqueue(self, source: str, readings: list[NodeReading]) -> int:
        if not readings:
            return 0
        arrived = time.monotonic()
        with self._lock:
            room = max(0, self._capacity - len(self._queue))
            self._queue.extend((reading, arrived) for reading in readings[:room])
        taken = min(room, len(readings))
        if taken < len(readings):
            self.counters.dropped(source, "queue_full", len(readings) - taken)
        if taken:
            self.counters.accepted(source, taken)
        return taken

    def reject(self, source: str, reason: str) -> None:
        """A listener counts input it could not even decode (malformed packets, unknown addresses)."""
        self.counters.received(source)
        self.counters.dropped(source, reason)

    def status(self) -> dict[str, object]:
        """For the status page: counts per source and the live nodes (safe from any thread)."""
        return {"sources": self.counters.snapshot(), **self._published}

    def latency_ms(self, percentile: float = 50.0) -> float | None:
        """Arrival-to-frame latency of recent readings (engine thread)."""
        return float(np.percentile(np.array(self.latencies), percentile) * 1000) if self.latencies else None

    # -- the engine thread ----------------------------------------------------------------------
    def reseed(self, seed: Seed, transition_s: float) -> None:
        self.kernel.reseed(seed, transition_s)

    def step(self, dt: float, events: Sequence[Event], params: Mapping[str, Value]) -> WorldFrame:
        p = {name: float(params.get(f"nodes.{name}", default)) for name, default in DEFAULTS.items()}  # type: ignore[arg-type]
        for replay in self.replays:
            for reading in replay.due(self.t):
                self.push(reading)
        with self._lock:
            batch = list(self._queue)
            self._queue.clear()
        now = time.monotonic()
        self.latencies.extend(now - arrived for _reading, arrived in batch)  # (a cluster's: to the leader's drain)
        readings = [reading for reading, _arrived in batch]
        mine: list[Event] = []
        for reading in readings if self.gate is None else self.gate(readings):
            self._take(reading, p, mine)
        live = self._live
        self.kernel.quiet = {live.ids[row] for row in np.flatnonzero(live.column("weight") >= 0.5)}
        frame = self.kernel.step(dt, events, params)
        self.t += dt
        frame = self._compose(frame, dt, p, mine)
        if self.kernel.step_count % 30 == 0:
            self._published = {"live": sorted(live.ids[row] for row in np.flatnonzero(live.column("weight") >= 0.5)),
                               "joined": self.joined, "latency_ms_p50": self.latency_ms()}
            # Forget live state of nodes that have left the world (a node_lost, an act change).
            if any(self.kernel.index_of(node) is None for node in self._live.ids):
                self._live = LiveTable.of({node: record for node, record in self._live.records().items()
                                           if self.kernel.index_of(node) is not None})
                self._where_key = (-1, -1)
        return frame

    # -- snapshots (installation.core.snapshot) --------------------------------------------------
    def save_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """The kernel's state and the node history: each live node's last reading and baseline."""
        meta, arrays = self.kernel.save_state()
        meta["mux.t"] = self.t
        meta["mux.live"] = {node: {**asdict(state), "reading": asdict(state.reading)}
                            for node, state in self.live.items()}
        return meta, arrays

    def restore_state(self, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        live = {node: LiveNode(**{**state, "reading": NodeReading(**state["reading"])})
                for node, state in dict(meta.get("mux.live", {})).items()}
        self.kernel.restore_state(meta, arrays)
        self.t = float(meta.get("mux.t", self.kernel.t))
        for state in live.values():
            state.last_t = min(state.last_t, self.t)
        self._live = LiveTable.of(live)
        self._where_key = (-1, -1)

    @property
    def live(self) -> dict[str, LiveNode]:
        """Each live node's state, as records (a copy: the engine thread owns the table)."""
        return self._live.records()

    @property
    def joined(self) -> int:
        """Live nodes that joined the world (and are still in it)."""
        return int(self.kernel.external.sum())

    def _take(self, reading: NodeReading, p: dict[str, float], out: list[Event]) -> None:
        for tap in self.taps:
            tap(reading, self.t)
        kernel = self.kernel
        index = kernel.index_of(reading.node)
        if index is None:
            if self.joined >= p["max_joined"]:
                self.counters.dropped(reading.source, "too_many_nodes")
                return
            x, y = (reading.x, reading.y) if reading.x is not None and reading.y is not None else place(reading.node)
            kernel.add_node(reading.node, x, y, "sensor", external=True)
            index = kernel.index_of(reading.node)
        elif reading.x is not None and reading.y is not None:
            kernel.move_node(index, reading.x, reading.y)
        self._detect_spike(self._live.take(reading, self.t), index, p, out)

    def _detect_spike(self, row: int, index: int | None, p: dict[str, float], out: list[Event]) -> None:
        live = self._live
        reading = live.readings[row]
        value = reading.potential_mv
        if math.isnan(value):
            return
        baseline = float(live.baseline[row])
        if math.isnan(baseline):
            live.baseline[row] = value
            return
        deviation = abs(value - baseline)
        threshold = p["spike_threshold_mv"]
        if live.armed[row] and deviation > threshold and index is not None:
            live.armed[row] = False
            strength = min(4.0, deviation / ADAMATZKY_2022.amplitude_median_mv)
            live.activity[row] = min(1.0, float(live.activity[row]) + 0.25 + 0.2 * strength)
            x, y = self.kernel.pos[index]
            out.append(Event(EventKind.SPIKE, self.t, strength, float(x), float(y), reading.node,
                             reading.source, {"amplitude_mv": float(value - baseline)}))
            self.kernel.excite(index, strength)
        elif deviation < threshold / 2:
            live.armed[row] = True

    def _where_live(self) -> NDArray[np.int64]:
        """Each live node's index in the kernel, and so in the frame (-1: not in the world), kept
        until a node joins the live table or the kernel's indices change."""
        key = (self.kernel.nodes.changes, len(self._live))
        if self._where_key != key:
            self._where_key = key
            self._where = np.array([-1 if (i := self.kernel.index_of(node)) is None else i for node in self._live.ids],
                                   np.int64)
        return self._where

    def _compose(self, frame: WorldFrame, dt: float, p: dict[str, float], mine: list[Event]) -> WorldFrame:
        """Advance every live node's weight, activity and baseline, and blend its values into the frame."""
        live = self._live
        if not len(live):
            return replace(frame, events=frame.events + tuple(mine)) if mine else frame
        fade = dt / p["fade_s"] if p["fade_s"] > 0 else 1.0
        silent = self.t - live.column("last_t") > p["silence_s"]
        weight = live.column("weight")
        weight[:] = np.clip(weight + np.where(silent, -fade, fade), 0.0, 1.0)
        activity = live.column("activity")
        activity *= math.exp(-dt / 1.5)
        values = live.values[:len(live)]
        baseline = live.column("baseline")
        follow = ~silent & ~np.isnan(values[:, 0])
        baseline[follow] += (values[follow, 0] - baseline[follow]) * min(1.0, dt / p["baseline_s"])
        where = self._where_live()
        rows = np.flatnonzero((where >= 0) & (weight > 0.0))
        at, w = where[rows], weight[rows]
        arrays: dict[str, Any] = {}
        for column, name in enumerate(MEASURED):
            array = arrays[name] = getattr(frame, name).copy()
            measured = ~np.isnan(values[rows, column])
            array[at[measured]] = (w[measured] * values[rows[measured], column]
                                   + (1.0 - w[measured]) * array[at[measured]])
        arrays["activity"] = frame.activity.copy()
        arrays["activity"][at] = np.maximum(activity[rows] * w, arrays["activity"][at] * (1.0 - w))
        arrays["live"] = frame.live.copy()
        arrays["live"][at] = w >= 0.5
        return replace(frame, events=frame.events + tuple(mine), **arrays)
