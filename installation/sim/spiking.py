"""The network's electrical life: spikes start, travel along links with a delay, and come in bursts.

:class:`Spiking` holds each node's spike trains, activity, surge boost and measured potential
(indexed like :class:`~installation.sim.membership.Nodes`); :class:`Bursts` tells a burst from
the network's usual rate. Times on the fungal clock are hours (see :mod:`installation.sim.spikes`).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from installation.core.events import Event, EventKind
from installation.sim.fields import Fields
from installation.sim.graph import Graph
from installation.sim.membership import Nodes
from installation.sim.spikes import ADAMATZKY_2022, SpikeTrains

KIND_RATE = {"hub": 1.5, "node": 1.0, "sensor": 1.0, "waste-to-life": 1.2, "workshop": 1.4, "purifier": 1.0}
BURST_WINDOW_S = 1.0
BURST_COOLDOWN_S = 3.0
DRIFT_MV = 0.02
DRIFT_TAU_H = 2.0


@dataclass
class Interference:
    """Electrical noise on the nodes within ``radius`` of (x, y) until show time ``until``."""

    x: float
    y: float
    radius: float
    until: float
    strength: float


class Bursts:
    """A burst: far more spikes in the last second than the network's usual rate (30 s average)."""

    def __init__(self) -> None:
        self.recent: deque[float] = deque()  # show times of the spikes within the window
        self.last_t = -1e9
        self.usual_rate = 0.0  # spikes per second, averaged

    def count(self, fired: int, dt: float, t: float) -> Event | None:
        """Count the ``fired`` spikes of the step ``dt`` at show time ``t``; the burst event, if one."""
        for _ in range(fired):
            self.recent.append(t)
        while self.recent and self.recent[0] < t - BURST_WINDOW_S:
            self.recent.popleft()
        # Averaged over the last 30 s, or over all there is while the world is younger than that.
        self.usual_rate += (fired / dt - self.usual_rate) * min(1.0, dt / min(30.0, t + dt))
        threshold = max(5.0, 2.0 * self.usual_rate * BURST_WINDOW_S)
        if len(self.recent) >= threshold and t - self.last_t > BURST_COOLDOWN_S:
            self.last_t = t
            return Event(EventKind.SPIKE_BURST, t, min(4.0, len(self.recent) / threshold), source="sim",
                         data={"spikes": float(len(self.recent))})
        return None


class Spiking:
    """Each node's spikes, and their travel along the graph's links."""

    def __init__(self, nodes: Nodes, graph: Graph, fields: Fields, trains: SpikeTrains, rng: np.random.Generator,
                 noise_rng: np.random.Generator, drift_rng: np.random.Generator) -> None:
        self.nodes = nodes
        self.graph = graph
        self.fields = fields
        self.trains = trains
        self.rng = rng  # the kernel's own stream: propagation's rolls interleave with the events' draws
        self.noise_rng = noise_rng  # interference only, so it changes nothing else
        self.drift_rng = drift_rng
        self.activity = np.zeros(0)
        self.boost = np.zeros(0)  # surge: seconds of guaranteed propagation left
        self.potential = np.zeros(0)
        self.drift = np.zeros(0)  # baseline drift of each node's potential (mV)
        self.interference: list[Interference] = []
        self.bursts = Bursts()

    def add(self, kind: str, now_h: float) -> None:
        """A node joined (the last in :class:`Nodes`)."""
        for name in ("activity", "boost", "potential", "drift"):
            setattr(self, name, np.append(getattr(self, name), 0.0))
        self.trains.add(1, now_h, np.array([KIND_RATE[kind]]))

    def keep(self, mask: NDArray[np.bool_]) -> None:
        self.trains.keep(mask)
        for name in ("activity", "boost", "potential", "drift"):
            setattr(self, name, getattr(self, name)[mask])

    def surge(self, node: int, strength: float, now_h: float) -> None:
        """``node`` fires now, and for a few seconds every link carries what arrives."""
        self.boost[:] = np.maximum(self.boost, 3.0 + 2.0 * strength)
        self.trains.trigger(np.array([node]), np.array([now_h]), np.array([min(4.0, 1.0 + strength)]))

    def step(self, dt: float, t: float, now_h: float, dt_h: float, quiet: set[str],
             p: dict[str, float]) -> list[Event]:
        """Spikes due start (but not on ``quiet`` nodes) and travel on; the potential follows.

        Returns the step's spike events (and a burst's).
        """
        nodes, fields = self.nodes, self.fields
        count = len(nodes)
        if count == 0:
            return []
        present = (nodes.presence > 0.5) & ~np.array([node in quiet for node in nodes.ids], bool)
        at = fields.geometry.sample
        toxin = at(fields.toxin, nodes.pos[:, 0], nodes.pos[:, 1])
        waste = at(fields.waste, nodes.pos[:, 0], nodes.pos[:, 1])
        kind_rate = np.array([KIND_RATE[k] for k in nodes.kinds])
        rate = p["spike_rate"] * kind_rate * (1.0 + 1.5 * toxin + 0.5 * waste)
        onsets = self.trains.step(now_h, dt_h, rate, present)
        self.activity *= math.exp(-dt / 1.5)
        self.boost = np.maximum(self.boost - dt, 0.0)
        typical = ADAMATZKY_2022.amplitude_median_mv
        strength = np.clip(onsets.amplitude_mv / typical, 0.0, 4.0)
        self.activity[onsets.nodes] = np.minimum(1.0, self.activity[onsets.nodes] + 0.25 + 0.2 * strength)
        seconds_per_hour = 3600.0 / p["time_compression"]
        events = []
        for node, amp, dur, s, passed_on in zip(onsets.nodes, onsets.amplitude_mv, onsets.duration_h, strength,
                                                onsets.triggered, strict=True):
            x, y = nodes.pos[node]
            events.append(Event(EventKind.SPIKE, t, float(s), float(x), float(y), nodes.ids[node], "sim",
                                {"amplitude_mv": float(amp), "duration_h": float(dur),
                                 "duration_s": float(dur * seconds_per_hour), "propagated": float(passed_on)}))
        self.propagate(onsets.nodes, strength, now_h, p)
        burst = self.bursts.count(len(onsets.nodes), dt, t)
        if burst is not None:
            events.append(burst)
        potential = self.trains.potential(now_h)
        for zone in self.interference:
            near = nodes.distances(zone.x, zone.y) < zone.radius
            potential[near] += self.noise_rng.normal(0.0, 0.3 * zone.strength, int(near.sum()))
        self.interference = [zone for zone in self.interference if zone.until > t]
        # Electrodes never sit at zero: a slow random drift of the baseline (Ornstein-Uhlenbeck,
        # tens of microvolts over fungal hours), on its own random stream.
        decay = min(1.0, dt_h / DRIFT_TAU_H)
        self.drift += -self.drift * decay + DRIFT_MV * math.sqrt(2.0 * decay) * self.drift_rng.standard_normal(count)
        self.potential = potential + self.drift
        return events

    def propagate(self, sources: NDArray[np.intp], gain: NDArray[np.float64], now_h: float,
                  p: dict[str, float]) -> None:
        """Activity at ``sources`` travels along each link, by chance (always in a surge), with a delay."""
        g = self.graph
        if len(sources) == 0 or len(g) == 0:
            return
        fired = np.zeros(len(self.nodes))
        fired[sources] = np.maximum(gain, 0.2)
        lengths = g.lengths(self.nodes.pos, self.nodes.geometry.aspect)
        hops = []
        for src, dst in ((g.a, g.b), (g.b, g.a)):
            edge = g.linked & (fired[src] > 0)
            chance = np.minimum(1.0, p["propagation"] * (0.4 + g.thickness))
            roll = self.rng.random(len(g))
            go = edge & ((roll < chance) | (self.boost[src] > 0))
            # A surge's wave travels twice as fast as ordinary activity.
            delay_s = p["propagation_delay"] * lengths / 0.1 * np.where(self.boost[src] > 0, 0.5, 1.0)
            arrive = now_h + delay_s * p["time_compression"] / 3600.0
            hops.append((dst[go], arrive[go], 0.8 * fired[src][go]))
        nodes = np.concatenate([h[0] for h in hops])
        self.trains.trigger(nodes, np.concatenate([h[1] for h in hops]), np.concatenate([h[2] for h in hops]))
