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
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from installation.core.events import Event, EventKind
from installation.core.frames import NodeReading, WorldFrame
from installation.core.params import Value
from installation.core.seeds import Seed
from installation.nodes.counters import Counters
from installation.nodes.params import param_specs
from installation.nodes.ratelimit import RateLimiter
from installation.nodes.recording import Replay
from installation.nodes.validate import Rejection, validate
from installation.sim.kernel import Kernel
from installation.sim.spikes import ADAMATZKY_2022

DEFAULTS = {spec.name.removeprefix("nodes."): float(spec.default) for spec in param_specs()}  # type: ignore[arg-type]
MEASURED = ("potential_mv", "toxin", "waste", "moisture")


@dataclass
class LiveNode:
    reading: NodeReading
    last_t: float  # mux time of the latest reading
    weight: float = 0.0  # how much of the node's output is live (0..1)
    baseline: float = math.nan
    armed: bool = True
    activity: float = 0.0


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
        self.live: dict[str, LiveNode] = {}
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
        self.counters.received(source)
        if not self.limiter.allow(source):
            self.counters.dropped(source, "rate_limited")
            return False
        reading = validate(node_id, values, t=0.0, source=source)
        if isinstance(reading, Rejection):
            self.counters.dropped(source, reading.reason)
            return False
        return self._enqueue(reading)

    def push(self, reading: NodeReading) -> bool:
        """Enqueue a reading that is already valid (a replay, a test)."""
        self.counters.received(reading.source)
        return self._enqueue(reading)

    def _enqueue(self, reading: NodeReading) -> bool:
        with self._lock:
            if len(self._queue) >= self._capacity:
                full = True
            else:
                full = False
                self._queue.append((reading, time.monotonic()))
        if full:
            self.counters.dropped(reading.source, "queue_full")
            return False
        self.counters.accepted(reading.source)
        return True

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
        mine: list[Event] = []
        for reading, arrived in batch:
            self._take(reading, p, mine)
            self.latencies.append(time.monotonic() - arrived)
        self.kernel.quiet = {node for node, state in self.live.items() if state.weight >= 0.5}
        frame = self.kernel.step(dt, events, params)
        self.t += dt
        frame = self._compose(frame, dt, p, mine)
        if self.kernel.step_count % 30 == 0:
            self._published = {"live": sorted(n for n, s in self.live.items() if s.weight >= 0.5),
                               "joined": self.joined, "latency_ms_p50": self.latency_ms()}
            # Forget live state of nodes that have left the world (a node_lost, an act change).
            for node in [n for n in self.live if self.kernel.index_of(n) is None]:
                del self.live[node]
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
        self.live = live

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
        state = self.live.get(reading.node)
        if state is None:
            state = self.live[reading.node] = LiveNode(reading, self.t)
        state.reading, state.last_t = reading, self.t
        self._detect_spike(state, index, p, out)

    def _detect_spike(self, state: LiveNode, index: int | None, p: dict[str, float], out: list[Event]) -> None:
        value = state.reading.potential_mv
        if math.isnan(value):
            return
        if math.isnan(state.baseline):
            state.baseline = value
            return
        deviation = abs(value - state.baseline)
        threshold = p["spike_threshold_mv"]
        if state.armed and deviation > threshold and index is not None:
            state.armed = False
            strength = min(4.0, deviation / ADAMATZKY_2022.amplitude_median_mv)
            state.activity = min(1.0, state.activity + 0.25 + 0.2 * strength)
            x, y = self.kernel.pos[index]
            out.append(Event(EventKind.SPIKE, self.t, strength, float(x), float(y), state.reading.node,
                             state.reading.source, {"amplitude_mv": float(value - state.baseline)}))
            self.kernel.excite(index, strength)
        elif deviation < threshold / 2:
            state.armed = True

    def _compose(self, frame: WorldFrame, dt: float, p: dict[str, float], mine: list[Event]) -> WorldFrame:
        if not self.live:
            return replace(frame, events=frame.events + tuple(mine)) if mine else frame
        arrays = {name: getattr(frame, name).copy() for name in (*MEASURED, "activity", "live")}
        fade = dt / p["fade_s"] if p["fade_s"] > 0 else 1.0
        index = {node: i for i, node in enumerate(frame.node_ids)}
        for node, state in self.live.items():
            silent = self.t - state.last_t > p["silence_s"]
            state.weight = min(1.0, max(0.0, state.weight + (-fade if silent else fade)))
            state.activity *= math.exp(-dt / 1.5)
            if not silent and not math.isnan(state.reading.potential_mv):
                state.baseline += (state.reading.potential_mv - state.baseline) * min(1.0, dt / p["baseline_s"])
            i = index.get(node)
            if i is None or state.weight <= 0.0:
                continue
            w = state.weight
            for name in MEASURED:
                value = getattr(state.reading, name)
                if not math.isnan(value):
                    arrays[name][i] = w * value + (1.0 - w) * arrays[name][i]
            arrays["activity"][i] = max(state.activity * w, arrays["activity"][i] * (1.0 - w))
            arrays["live"][i] = w >= 0.5
        return replace(frame, events=frame.events + tuple(mine), **{name: arrays[name] for name in arrays})
