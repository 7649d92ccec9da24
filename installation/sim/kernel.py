"""The simulation kernel: a seed grows a living network, one fixed step at a time.

Pure numpy and deterministic: every random draw comes from the seed's own stream, so the same
seed with the same events and parameters gives bit-identical state (see :meth:`state_hash`).
Per step: events act on the world, nodes join/leave/glide, spikes start and travel along
links with a delay, candidate links grow and fuse, links thicken with flow or wither, the
hyphal density follows the network and explores toward food and the mural mask, the network
digests waste and consumes toxin, and flora blooms where toxin was consumed.
"""

from __future__ import annotations

import hashlib
import math
from collections import deque
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from installation.core.events import Event, EventKind
from installation.core.frames import FIELD_NAMES, WorldFrame
from installation.core.params import ParamBank, Value
from installation.core.seeds import NODE_KINDS, Seed
from installation.sim import actions
from installation.sim.fields import Fields, Geometry
from installation.sim.graph import Graph
from installation.sim.params import param_specs
from installation.sim.raster import draw_links, draw_nodes
from installation.sim.spikes import ADAMATZKY_2022, SpikeTrains

GRID_ROWS = 72  # default field grid: 72 rows, columns to match the seed's aspect (128 for 16:9)
FADE_S = 1.5
KIND_RATE = {"hub": 1.5, "node": 1.0, "sensor": 1.0, "waste-to-life": 1.2, "workshop": 1.4, "purifier": 1.0}
KIND_LINKS = {"hub": 2, "workshop": 1}
MAX_FUSE_EVENTS = 6
BURST_WINDOW_S = 1.0
BURST_COOLDOWN_S = 3.0
LAYOUT_S = 0.5
MAX_CLUSTERS = 64
DRIFT_MV = 0.02
DRIFT_TAU_H = 2.0
DEFAULTS = {spec.name.removeprefix("sim."): float(spec.default) for spec in param_specs()}  # type: ignore[arg-type]


class Kernel:
    """The built-in world source. See :class:`installation.core.world.WorldSource`."""

    def __init__(self, seed: Seed, grid: tuple[int, int] | None = None) -> None:
        grid = grid or (GRID_ROWS, max(8, round(GRID_ROWS * seed.aspect)))
        self.seed = seed
        self.geometry = Geometry(grid[0], grid[1], seed.aspect)
        self.rng = seed.rng(10)
        self.noise_rng = seed.rng(12)  # interference only, so it changes nothing else
        self.drift_rng = seed.rng(13)
        self.t = 0.0
        self.now_h = 0.0
        self.dt_h = 0.0
        self.step_count = 0
        self.ids: list[str] = []
        self.quiet: set[str] = set()  # nodes whose live data speaks for them: they do not spike here
        self._where: dict[str, int] = {}  # node id -> index
        self.kinds: list[str] = []
        self.pos = np.zeros((0, 2))
        self.goal = np.zeros((0, 2))
        self.glide_left_s = 0.0
        self.presence = np.zeros(0)
        self.fading = np.zeros(0, np.int8)  # +1 fading in, -1 fading out
        self.external = np.zeros(0, bool)
        self.activity = np.zeros(0)
        self.boost = np.zeros(0)  # surge: seconds of guaranteed propagation left
        self.potential = np.zeros(0)
        self.drift = np.zeros(0)  # baseline drift of each node's potential (mV)
        self.graph = Graph()
        self.spikes = SpikeTrains(seed.rng(11))
        self.fields = Fields(self.geometry, seed.field("waste", grid), seed.field("toxin", grid),
                             seed.field("mask", grid))
        self.clusters: list[actions.Cluster] = []
        self.interference: list[actions.Interference] = []
        self.pending_joins: list[tuple[float, str, float, float, str]] = []
        self.outbox: list[Event] = []
        self.recent_spikes: deque[float] = deque()
        self.last_burst_t = -1e9
        self.usual_rate = 0.0  # spikes per second, averaged
        self.reach = DEFAULTS["reach"]
        self.dirty = True  # nodes joined or left: candidates must be rebuilt
        self.moved = False  # nodes moved: rebuild soon
        self.next_layout_t = 0.0
        self.dirty_influence = True
        self._influence: dict[str, NDArray[np.float32] | None] = {}
        self.links_cut = 0
        self._joined = 0
        self._p = dict(DEFAULTS)
        for node in seed.nodes:
            self.add_node(node.id, node.x, node.y, node.kind, announce=False, fade_in=False)
        self._watch_seed_clusters(seed)
        self._grow_initial_network()

    # -- WorldSource ----------------------------------------------------------------------------
    @property
    def aspect(self) -> float:
        return self.geometry.aspect

    def register_params(self, bank: ParamBank) -> None:
        bank.register_all(param_specs())

    def reseed(self, seed: Seed, transition_s: float) -> None:
        """An act change: the network lives on; nodes new to the seed join, absent ones fade out."""
        grid = (self.geometry.rows, self.geometry.cols)
        self.seed = seed
        self.geometry.aspect = seed.aspect
        self.fields.retarget(seed.field("waste", grid), seed.field("toxin", grid), seed.field("mask", grid),
                             transition_s)
        # Pools the new act does not have fade with the act change: that is no purification.
        self.clusters = [c for c in self.clusters
                         if (self.fields.seed_toxin * self.geometry.disc(c.x, c.y, c.radius)).sum() >= 0.5 * c.mass]
        wanted = {node.id: node for node in seed.nodes}
        self.pending_joins = []  # joins still due from an earlier act change are superseded
        for index, node_id in enumerate(self.ids):
            node = wanted.pop(node_id, None)
            if node is not None:
                self.goal[index] = (node.x, node.y)
                if self.fading[index] < 0:  # it was leaving, but this act has it again
                    self.fading[index] = 1
            elif not self.external[index]:
                self.remove_node(node_id, announce=True)
        self.glide_left_s = max(transition_s, 1e-6)
        for node in wanted.values():
            when = self.t + float(self.rng.uniform(0.0, 0.8 * max(transition_s, 0.0)))
            self.pending_joins.append((when, node.id, node.x, node.y, node.kind))
        self._watch_seed_clusters(seed)

    def step(self, dt: float, events: Sequence[Event], params: Mapping[str, Value]) -> WorldFrame:
        p = {name: float(params.get(f"sim.{name}", default)) for name, default in DEFAULTS.items()}  # type: ignore[arg-type]
        self._p = p
        for event in events:
            actions.apply(self, event)
        self._membership(dt)
        # Membership changes relink at once; moves and a gliding reach at most twice a second.
        if self.dirty or ((self.moved or abs(p["reach"] - self.reach) > 1e-9) and self.t >= self.next_layout_t):
            self.reach = p["reach"]
            self.graph.rebuild(self.pos, self.aspect, self.reach)
            self.dirty = self.moved = False
            self.dirty_influence = True
            self.next_layout_t = self.t + LAYOUT_S
        self.fields.blend(dt)
        self.dt_h = dt * p["time_compression"] / 3600.0
        self.now_h += self.dt_h
        self._spike(dt, p)
        self._network(dt, p)
        self.t += dt
        self.step_count += 1
        self._check_clusters()
        # The step's events: what came in, then what the kernel fired (joins announced before the
        # step, by the mux or an act change, included).
        # A spike asked for from outside comes back as the kernel's own spike event (with its
        # amplitude and duration), so it is not passed on twice.
        frame = self._frame([*(e for e in events if e.kind is not EventKind.SPIKE), *self.outbox])
        self.outbox = []
        return frame

    # -- membership -----------------------------------------------------------------------------
    def fresh_id(self) -> str:
        while True:
            self._joined += 1
            candidate = f"j{self._joined:03d}"
            if candidate not in self._where:
                return candidate

    def add_node(self, node_id: str, x: float, y: float, kind: str = "node", *, announce: bool = True,
                 external: bool = False, fade_in: bool = True) -> bool:
        """A node joins (from the seed, an event, an act change or live data). False if it exists."""
        if node_id in self._where:
            index = self._where[node_id]
            if self.fading[index] < 0:  # it was leaving: it stays after all
                self.fading[index] = 1
            return False
        kind = kind if kind in NODE_KINDS else "node"
        self._where[node_id] = len(self.ids)
        self.ids.append(node_id)
        self.kinds.append(kind)
        point = np.array([[min(1.0, max(0.0, x)), min(1.0, max(0.0, y))]])
        self.pos = np.concatenate([self.pos, point])
        self.goal = np.concatenate([self.goal, point])
        self.presence = np.append(self.presence, 0.0 if fade_in else 1.0)
        self.fading = np.append(self.fading, np.int8(1 if fade_in else 0))
        self.external = np.append(self.external, external)
        self.activity = np.append(self.activity, 0.0)
        self.boost = np.append(self.boost, 0.0)
        self.potential = np.append(self.potential, 0.0)
        self.drift = np.append(self.drift, 0.0)
        self.spikes.add(1, self.now_h, np.array([KIND_RATE[kind]]))
        self.dirty = True
        if announce:
            self.outbox.append(Event(EventKind.NODE_JOINED, self.t, 1.0, point[0, 0], point[0, 1], node_id, "sim"))
        return True

    def remove_node(self, node_id: str, *, announce: bool = True) -> bool:
        """A node fades out and is removed; its links wither with it."""
        index = self.index_of(node_id)
        if index is None:
            return False
        self.fading[index] = -1
        if announce:
            x, y = self.pos[index]
            self.outbox.append(Event(EventKind.NODE_LOST, self.t, 1.0, float(x), float(y), node_id, "sim"))
        return True

    def move_node(self, index: int, x: float, y: float) -> None:
        point = (min(1.0, max(0.0, x)), min(1.0, max(0.0, y)))
        if tuple(self.pos[index]) != point:
            self.pos[index] = self.goal[index] = point
            self.moved = True

    def _membership(self, dt: float) -> None:
        due = [join for join in self.pending_joins if join[0] <= self.t]
        self.pending_joins = [join for join in self.pending_joins if join[0] > self.t]
        for _, node_id, x, y, kind in due:
            self.add_node(node_id, x, y, kind)
        if self.glide_left_s > 0:
            self.pos += (self.goal - self.pos) * min(1.0, dt / self.glide_left_s)
            self.glide_left_s -= dt
            self.moved = True
        self.presence = np.clip(self.presence + self.fading * dt / FADE_S, 0.0, 1.0)
        self.fading[(self.fading > 0) & (self.presence >= 1.0)] = 0
        gone = (self.fading < 0) & (self.presence <= 0.0)
        if gone.any():
            keep = ~gone
            self.graph.renumber(keep)
            self.spikes.keep(keep)
            self.ids = [i for i, k in zip(self.ids, keep, strict=True) if k]
            self._where = {node_id: index for index, node_id in enumerate(self.ids)}
            self.kinds = [i for i, k in zip(self.kinds, keep, strict=True) if k]
            for name in ("pos", "goal", "presence", "fading", "external", "activity", "boost", "potential",
                         "drift"):
                setattr(self, name, getattr(self, name)[keep])
            self.dirty = True

    # -- spikes ---------------------------------------------------------------------------------
    def surge(self, x: float, y: float, strength: float) -> None:
        """Biogenic surge: the node nearest (x, y) fires; every link carries the wave; links re-knit."""
        if not self.ids:
            return
        nearest = int(np.argmin(self.distances(x, y)))
        self.boost[:] = np.maximum(self.boost, 3.0 + 2.0 * strength)
        self.spikes.trigger(np.array([nearest]), np.array([self.now_h]), np.array([min(4.0, 1.0 + strength)]))
        regrow = ~self.graph.linked
        self.graph.progress[regrow] = np.maximum(self.graph.progress[regrow], 0.0) + 0.4 * strength
        self.graph.thickness[self.graph.linked] += 0.2 * strength

    def distances(self, x: float, y: float) -> NDArray[np.float64]:
        """Every node's distance from (x, y), in canvas heights (x scaled by the aspect)."""
        return np.hypot((self.pos[:, 0] - x) * self.aspect, self.pos[:, 1] - y)

    def index_of(self, node_id: str) -> int | None:
        return self._where.get(node_id)

    def fire(self, nodes: NDArray[np.intp], delays_s: NDArray[np.float64], gain: float) -> None:
        """Make ``nodes`` spike after ``delays_s`` show seconds (a cue, a MIDI pad, a burst)."""
        at_h = self.now_h + delays_s * self._p["time_compression"] / 3600.0
        self.spikes.trigger(nodes, at_h, np.full(len(nodes), gain))

    def excite(self, index: int, gain: float) -> None:
        """Activity from outside (a live spike) travels on to the node's neighbours."""
        self._propagate(np.array([index], np.intp), np.array([gain]), self._p)

    def _spike(self, dt: float, p: dict[str, float]) -> None:
        count = len(self.ids)
        if count == 0:
            return
        present = (self.presence > 0.5) & ~np.array([node in self.quiet for node in self.ids], bool)
        at = self.geometry.sample
        toxin = at(self.fields.toxin, self.pos[:, 0], self.pos[:, 1])
        waste = at(self.fields.waste, self.pos[:, 0], self.pos[:, 1])
        kind_rate = np.array([KIND_RATE[k] for k in self.kinds])
        rate = p["spike_rate"] * kind_rate * (1.0 + 1.5 * toxin + 0.5 * waste)
        onsets = self.spikes.step(self.now_h, self.dt_h, rate, present)
        self.activity *= math.exp(-dt / 1.5)
        self.boost = np.maximum(self.boost - dt, 0.0)
        typical = ADAMATZKY_2022.amplitude_median_mv
        strength = np.clip(onsets.amplitude_mv / typical, 0.0, 4.0)
        self.activity[onsets.nodes] = np.minimum(1.0, self.activity[onsets.nodes] + 0.25 + 0.2 * strength)
        seconds_per_hour = 3600.0 / p["time_compression"]
        for node, amp, dur, s, passed_on in zip(onsets.nodes, onsets.amplitude_mv, onsets.duration_h, strength,
                                                onsets.triggered, strict=True):
            x, y = self.pos[node]
            self.outbox.append(Event(EventKind.SPIKE, self.t, float(s), float(x), float(y), self.ids[node], "sim",
                                     {"amplitude_mv": float(amp), "duration_h": float(dur),
                                      "duration_s": float(dur * seconds_per_hour), "propagated": float(passed_on)}))
        self._propagate(onsets.nodes, strength, p)
        self._bursts(len(onsets.nodes), dt)
        potential = self.spikes.potential(self.now_h)
        for zone in self.interference:
            near = self.distances(zone.x, zone.y) < zone.radius
            potential[near] += self.noise_rng.normal(0.0, 0.3 * zone.strength, int(near.sum()))
        self.interference = [zone for zone in self.interference if zone.until > self.t]
        # Electrodes never sit at zero: a slow random drift of the baseline (Ornstein-Uhlenbeck,
        # tens of microvolts over fungal hours), on its own random stream.
        decay = min(1.0, self.dt_h / DRIFT_TAU_H)
        self.drift += -self.drift * decay + DRIFT_MV * math.sqrt(2.0 * decay) * self.drift_rng.standard_normal(count)
        self.potential = potential + self.drift

    def _propagate(self, sources: NDArray[np.intp], gain: NDArray[np.float64], p: dict[str, float]) -> None:
        if len(sources) == 0 or len(self.graph) == 0:
            return
        g = self.graph
        fired = np.zeros(len(self.ids))
        fired[sources] = np.maximum(gain, 0.2)
        lengths = g.lengths(self.pos, self.aspect)
        hops = []
        for src, dst in ((g.a, g.b), (g.b, g.a)):
            edge = g.linked & (fired[src] > 0)
            chance = np.minimum(1.0, p["propagation"] * (0.4 + g.thickness))
            roll = self.rng.random(len(g))
            go = edge & ((roll < chance) | (self.boost[src] > 0))
            # A surge's wave travels twice as fast as ordinary activity.
            delay_s = p["propagation_delay"] * lengths / 0.1 * np.where(self.boost[src] > 0, 0.5, 1.0)
            arrive = self.now_h + delay_s * p["time_compression"] / 3600.0
            hops.append((dst[go], arrive[go], 0.8 * fired[src][go]))
        nodes = np.concatenate([h[0] for h in hops])
        self.spikes.trigger(nodes, np.concatenate([h[1] for h in hops]), np.concatenate([h[2] for h in hops]))

    def _bursts(self, fired: int, dt: float) -> None:
        """A burst: far more spikes in the last second than the network's usual rate (30 s average)."""
        for _ in range(fired):
            self.recent_spikes.append(self.t)
        while self.recent_spikes and self.recent_spikes[0] < self.t - BURST_WINDOW_S:
            self.recent_spikes.popleft()
        # Averaged over the last 30 s, or over all there is while the world is younger than that.
        self.usual_rate += (fired / dt - self.usual_rate) * min(1.0, dt / min(30.0, self.t + dt))
        threshold = max(5.0, 2.0 * self.usual_rate * BURST_WINDOW_S)
        if len(self.recent_spikes) >= threshold and self.t - self.last_burst_t > BURST_COOLDOWN_S:
            self.last_burst_t = self.t
            self.outbox.append(Event(EventKind.SPIKE_BURST, self.t, min(4.0, len(self.recent_spikes) / threshold),
                                     source="sim", data={"spikes": float(len(self.recent_spikes))}))

    # -- network and fields ---------------------------------------------------------------------
    def _network(self, dt: float, p: dict[str, float]) -> None:
        g, f = self.graph, self.fields
        count = len(self.ids)
        if len(g):
            lengths = g.lengths(self.pos, self.aspect)
            mx, my = (self.pos[g.a] + self.pos[g.b]).T / 2.0
            at = self.geometry.sample
            attraction = (at(f.waste, mx, my) + 0.5 * p["toxin_appetite"] * at(f.toxin, mx, my)
                          + p["mask_steering"] * at(f.mask, mx, my))
            wanted = 1 + round(4 * p["branching"]) + np.array([KIND_LINKS.get(k, 0) for k in self.kinds])
            degree_before = g.degree(count)
            fused = g.grow(dt, lengths, attraction, wanted, self.presence > 0.5, p["growth_rate"])
            joining = fused[(degree_before[g.a[fused]] > 0) & (degree_before[g.b[fused]] > 0)]
            for edge in joining[:MAX_FUSE_EVENTS]:
                x, y = (self.pos[g.a[edge]] + self.pos[g.b[edge]]) / 2.0
                self.outbox.append(Event(EventKind.LINK_FUSED, self.t, 1.0, float(x), float(y), source="sim",
                                         data={"a": float(g.a[edge]), "b": float(g.b[edge])}))
            waste = at(f.waste, self.pos[:, 0], self.pos[:, 1]) + at(f.toxin, self.pos[:, 0], self.pos[:, 1])
            surge = np.maximum(self.boost[g.a], self.boost[g.b]) > 0
            target = np.clip(0.15 + 0.6 * (self.activity[g.a] + self.activity[g.b]) / 2.0
                             + 0.8 * np.abs(waste[g.a] - waste[g.b]) + 0.3 * (waste[g.a] + waste[g.b]) / 2.0
                             + 0.5 * surge, 0.0, 1.0)
            flow = g.flow + (target - g.flow) * min(1.0, dt / 0.5)
            g.thicken(dt, flow, p["growth_rate"], p["dieback"])
            presence = np.minimum(self.presence[g.a], self.presence[g.b])
            g.linked &= presence > 0.0
        f.grow(dt, draw_links(self.graph, self.pos, self.presence, self.geometry, self.reach), p)
        self._node_influence(dt)
        f.feed(dt, p)

    def _node_influence(self, dt: float) -> None:
        """Purifier nodes keep purifying around them; waste-to-life nodes turn waste into flora."""
        f = self.fields
        if self.dirty_influence or (self.fading != 0).any():
            self._influence = {}
            for kind in ("purifier", "waste-to-life"):
                chosen = np.array([k == kind for k in self.kinds], bool)
                self._influence[kind] = draw_nodes(self.geometry, self.pos[chosen], self.presence[chosen])
            self.dirty_influence = False
        purify, flora = self._influence["purifier"], self._influence["waste-to-life"]
        if purify is not None:
            f.purify = np.maximum(f.purify, 0.5 * purify)
        if flora is not None:
            f.flora = np.clip(f.flora + np.float32(dt * 0.2) * flora * f.waste, 0.0, 1.0)

    def cut_links(self, band: NDArray[np.float32]) -> None:
        """Cut every link (or growing hypha) that crosses the band."""
        g = self.graph
        if len(g) == 0:
            return
        xs, ys = g.samples(self.pos, 16)
        hit = self.geometry.sample(band, xs.ravel(), ys.ravel()).reshape(xs.shape).max(axis=1) > 0.5
        self.links_cut += g.cut(hit)
        self.activity[np.unique(np.concatenate([g.a[hit], g.b[hit]]))] *= 0.3

    # -- clusters -------------------------------------------------------------------------------
    def watch_cluster(self, x: float, y: float, radius: float, toxin: NDArray[np.float32] | None = None) -> None:
        """Watch a pool until it is consumed; its starting mass is taken from ``toxin`` (default: now)."""
        disc = self.geometry.disc(x, y, radius)
        mass = float(((self.fields.toxin if toxin is None else toxin) * disc).sum())
        if mass > 0:
            self.clusters = [*self.clusters[-(MAX_CLUSTERS - 1):], actions.Cluster(x, y, radius, mass)]

    def _watch_seed_clusters(self, seed: Seed) -> None:
        # Measured on the seed's own field: after an act change the pools are still blending in.
        for blob in seed.toxin.blobs:
            self.watch_cluster(blob.x, blob.y, blob.radius, self.fields.seed_toxin)

    def _check_clusters(self) -> None:
        if self.step_count % 30:
            return
        remaining = []
        for cluster in self.clusters:
            mass = float((self.fields.toxin * self.geometry.disc(cluster.x, cluster.y, cluster.radius)).sum())
            cluster.present = cluster.present or mass >= 0.5 * cluster.mass
            if cluster.present and mass < 0.2 * cluster.mass:
                self.outbox.append(Event(EventKind.CLUSTER_PURIFIED, self.t, 1.0, cluster.x, cluster.y, source="sim"))
            else:
                remaining.append(cluster)
        self.clusters = remaining

    # -- output ---------------------------------------------------------------------------------
    def _grow_initial_network(self) -> None:
        """A seed starts as a young network: each node already linked to its nearest neighbour."""
        self.graph.rebuild(self.pos, self.aspect, self.reach)
        self.dirty = False
        g = self.graph
        if len(g) == 0:
            return
        lengths = g.lengths(self.pos, self.aspect)
        first = np.full(len(self.ids), -1)
        order = np.argsort(lengths, kind="stable")
        for edge in order:
            for end in (g.a[edge], g.b[edge]):
                if first[end] < 0:
                    first[end] = edge
        chosen = np.unique(first[first >= 0])
        g.linked[chosen] = True
        g.progress[chosen] = 1.0
        g.thickness[chosen] = 0.3
        g.flow[chosen] = 0.3
        self.fields.density = draw_links(self.graph, self.pos, self.presence, self.geometry, self.reach)

    def _frame(self, events: list[Event]) -> WorldFrame:
        f, geo = self.fields, self.geometry
        x, y = self.pos[:, 0], self.pos[:, 1]
        density = geo.sample(f.density, x, y)
        toxin = geo.sample(f.toxin, x, y)
        moisture = np.clip(0.3 + 0.5 * density - 0.3 * toxin + 0.1 * geo.sample(f.flora, x, y), 0.0, 1.0)
        g = self.graph
        linked = g.linked
        return WorldFrame(
            step=self.step_count,
            t=self.t,
            node_ids=tuple(self.ids),
            positions=self.pos.astype(np.float32),
            potential_mv=self.potential.astype(np.float32),
            toxin=toxin.astype(np.float32),
            waste=geo.sample(f.waste, x, y).astype(np.float32),
            moisture=moisture.astype(np.float32),
            activity=(self.activity * self.presence).astype(np.float32),
            live=np.zeros(len(self.ids), bool),
            links=np.stack([g.a[linked], g.b[linked]], axis=1).astype(np.int32).reshape(-1, 2),
            flow=g.flow[linked].astype(np.float32),
            thickness=g.thickness[linked].astype(np.float32),
            fields={name: getattr(f, name).copy() for name in FIELD_NAMES},
            events=tuple(events),
            aspect=self.aspect,
            kinds=tuple(self.kinds),
        )

    def state_hash(self) -> str:
        """A digest of the whole state: equal for equal seeds and inputs, on the same machine."""
        digest = hashlib.sha256()
        digest.update(repr((self.step_count, self.t, self.now_h, self.ids, self.kinds)).encode())
        g, f, s = self.graph, self.fields, self.spikes
        arrays = (self.pos, self.presence, self.activity, self.potential, self.drift, g.a, g.b, g.progress, g.linked,
                  g.thickness, g.flow, f.waste, f.toxin, f.density, f.flora, f.purify, f.shield,
                  s.start_h, s.amplitude, s.next_h, s.trigger_h)
        for array in arrays:
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()
