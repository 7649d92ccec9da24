"""The simulation kernel: a seed grows a living network, one fixed step at a time.

Pure numpy and deterministic: every random draw comes from the seed's own stream, so the same
seed with the same events and parameters gives bit-identical state (see :meth:`state_hash`).
Per step: events act on the world (:mod:`~installation.sim.actions`), nodes join/leave/glide
(:mod:`~installation.sim.membership`), spikes start and travel along links with a delay
(:mod:`~installation.sim.spiking`), candidate links grow and fuse, links thicken with flow or
wither, the hyphal density follows the network and explores toward food and the mural mask, the
network digests waste and consumes toxin, and flora blooms where toxin was consumed
(:mod:`~installation.sim.growth`); watched toxin pools report when they are consumed
(:mod:`~installation.sim.clusters`). The kernel owns the clock and the step's events.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from installation.core.events import Event, EventKind
from installation.core.frames import FIELD_NAMES, WorldFrame
from installation.core.params import Value
from installation.core.seeds import Seed
from installation.core.snapshot import Arrays, SnapshotError, attributes, restore_attributes, rng_state, set_rng_state
from installation.sim import actions
from installation.sim.clusters import Cluster, ClusterWatch
from installation.sim.fields import Fields, Geometry
from installation.sim.graph import Graph
from installation.sim.growth import Growth
from installation.sim.membership import Join, Nodes
from installation.sim.params import param_specs
from installation.sim.spikes import SpikeTrains
from installation.sim.spiking import Interference, Spiking

GRID_ROWS = 72  # default field grid: 72 rows, columns to match the seed's aspect (128 for 16:9)
DEFAULTS = {spec.name.removeprefix("sim."): float(spec.default) for spec in param_specs()}  # type: ignore[arg-type]


class Kernel:
    """The built-in world source. See :class:`installation.core.world.WorldSource`."""

    def __init__(self, seed: Seed, grid: tuple[int, int] | None = None) -> None:
        grid = grid or (GRID_ROWS, max(8, round(GRID_ROWS * seed.aspect)))
        self.seed = seed
        self.geometry = Geometry(grid[0], grid[1], seed.aspect)
        self.rng = seed.rng(10)
        self.t = 0.0
        self.now_h = 0.0
        self.step_count = 0
        self.quiet: set[str] = set()  # nodes whose live data speaks for them: they do not spike here
        self.outbox: list[Event] = []
        self.graph = Graph()
        self.fields = Fields(self.geometry, seed.field("waste", grid), seed.field("toxin", grid),
                             seed.field("mask", grid))
        self.nodes = Nodes(self.geometry)
        self.spiking = Spiking(self.nodes, self.graph, self.fields, SpikeTrains(seed.rng(11)), self.rng,
                               noise_rng=seed.rng(12), drift_rng=seed.rng(13))
        self.growth = Growth(self.nodes, self.graph, self.fields, DEFAULTS["reach"])
        self.cluster_watch = ClusterWatch(self.fields)
        self._p = dict(DEFAULTS)
        for node in seed.nodes:
            self.add_node(node.id, node.x, node.y, node.kind, announce=False, fade_in=False)
        self.cluster_watch.watch_seed(seed)
        self.growth.grow_initial()

    # -- what other parts read ------------------------------------------------------------------
    @property
    def ids(self) -> list[str]:
        return self.nodes.ids

    @property
    def kinds(self) -> list[str]:
        return self.nodes.kinds

    @property
    def pos(self) -> NDArray[np.float64]:
        return self.nodes.pos

    @property
    def external(self) -> NDArray[np.bool_]:
        return self.nodes.external

    @property
    def pending_joins(self) -> list[Join]:
        return self.nodes.pending_joins

    @property
    def spikes(self) -> SpikeTrains:
        return self.spiking.trains

    @property
    def activity(self) -> NDArray[np.float64]:
        return self.spiking.activity

    @property
    def interference(self) -> list[Interference]:
        return self.spiking.interference

    @property
    def links_cut(self) -> int:
        return self.growth.links_cut

    @property
    def clusters(self) -> list[Cluster]:
        return self.cluster_watch.clusters

    # -- WorldSource ----------------------------------------------------------------------------
    @property
    def aspect(self) -> float:
        return self.geometry.aspect

    def reseed(self, seed: Seed, transition_s: float) -> None:
        """An act change: the network lives on; nodes new to the seed join, absent ones fade out."""
        grid = (self.geometry.rows, self.geometry.cols)
        self.seed = seed
        self.geometry.aspect = seed.aspect
        self.fields.retarget(seed.field("waste", grid), seed.field("toxin", grid), seed.field("mask", grid),
                             transition_s)
        self.cluster_watch.forget_absent()
        for node_id in self.nodes.retarget(seed, transition_s, self.t, self.rng):
            self.remove_node(node_id, announce=True)
        self.cluster_watch.watch_seed(seed)

    def step(self, dt: float, events: Sequence[Event], params: Mapping[str, Value]) -> WorldFrame:
        p = {name: float(params.get(f"sim.{name}", default)) for name, default in DEFAULTS.items()}  # type: ignore[arg-type]
        self._p = p
        for event in events:
            actions.apply(self, event)
        for _, node_id, x, y, kind in self.nodes.due(self.t):
            self.add_node(node_id, x, y, kind)
        keep = self.nodes.advance(dt)
        if keep is not None:
            self.graph.renumber(keep)
            self.spiking.keep(keep)
        self.growth.relayout(self.t, p["reach"])
        self.fields.blend(dt)
        dt_h = dt * p["time_compression"] / 3600.0
        self.now_h += dt_h
        self.outbox += self.spiking.step(dt, self.t, self.now_h, dt_h, self.quiet, p)
        self.outbox += self.growth.step(dt, self.t, self.spiking.activity, self.spiking.boost, p)
        self.t += dt
        self.step_count += 1
        self.outbox += self.cluster_watch.check(self.step_count, self.t)
        # The step's events: what came in, then what the kernel fired (joins announced before the
        # step, by the mux or an act change, included).
        # A spike asked for from outside comes back as the kernel's own spike event (with its
        # amplitude and duration), so it is not passed on twice.
        frame = self._frame([*(e for e in events if e.kind is not EventKind.SPIKE), *self.outbox])
        self.outbox = []
        return frame

    # -- membership -----------------------------------------------------------------------------
    def fresh_id(self) -> str:
        return self.nodes.fresh_id()

    def add_node(self, node_id: str, x: float, y: float, kind: str = "node", *, announce: bool = True,
                 external: bool = False, fade_in: bool = True) -> bool:
        """A node joins (from the seed, an event, an act change or live data). False if it exists."""
        if not self.nodes.add(node_id, x, y, kind, external=external, fade_in=fade_in):
            return False
        self.spiking.add(self.nodes.kinds[-1], self.now_h)
        if announce:
            self._announce(EventKind.NODE_JOINED, len(self.nodes) - 1)
        return True

    def remove_node(self, node_id: str, *, announce: bool = True) -> bool:
        """A node fades out and is removed; its links wither with it."""
        index = self.nodes.remove(node_id)
        if index is None:
            return False
        if announce:
            self._announce(EventKind.NODE_LOST, index)
        return True

    def move_node(self, index: int, x: float, y: float) -> None:
        self.nodes.move(index, x, y)

    def _announce(self, kind: EventKind, index: int) -> None:
        x, y = self.nodes.pos[index]
        self.outbox.append(Event(kind, self.t, 1.0, float(x), float(y), self.nodes.ids[index], "sim"))

    def distances(self, x: float, y: float) -> NDArray[np.float64]:
        """Every node's distance from (x, y), in canvas heights (x scaled by the aspect)."""
        return self.nodes.distances(x, y)

    def index_of(self, node_id: str) -> int | None:
        return self.nodes.index_of(node_id)

    # -- spikes ---------------------------------------------------------------------------------
    def surge(self, x: float, y: float, strength: float) -> None:
        """Biogenic surge: the node nearest (x, y) fires; every link carries the wave; links re-knit."""
        if not self.ids:
            return
        self.spiking.surge(int(np.argmin(self.distances(x, y))), strength, self.now_h)
        self.graph.reknit(strength)

    def fire(self, nodes: NDArray[np.intp], delays_s: NDArray[np.float64], gain: float) -> None:
        """Make ``nodes`` spike after ``delays_s`` show seconds (a cue, a MIDI pad, a burst)."""
        at_h = self.now_h + delays_s * self._p["time_compression"] / 3600.0
        self.spikes.trigger(nodes, at_h, np.full(len(nodes), gain))

    def excite(self, index: int, gain: float) -> None:
        """Activity from outside (a live spike) travels on to the node's neighbours."""
        self.spiking.propagate(np.array([index], np.intp), np.array([gain]), self.now_h, self._p)

    # -- network and fields ---------------------------------------------------------------------
    def cut_links(self, band: NDArray[np.float32]) -> None:
        """Cut every link (or growing hypha) that crosses the band; activity at their ends drops."""
        self.spiking.activity[self.growth.cut(band)] *= 0.3

    def watch_cluster(self, x: float, y: float, radius: float, toxin: NDArray[np.float32] | None = None) -> None:
        """Watch a pool until it is consumed; its starting mass is taken from ``toxin`` (default: now)."""
        self.cluster_watch.watch(x, y, radius, toxin)

    # -- output ---------------------------------------------------------------------------------
    def _frame(self, events: list[Event]) -> WorldFrame:
        f, geo, nodes = self.fields, self.geometry, self.nodes
        x, y = nodes.pos[:, 0], nodes.pos[:, 1]
        density = geo.sample(f.density, x, y)
        toxin = geo.sample(f.toxin, x, y)
        moisture = np.clip(0.3 + 0.5 * density - 0.3 * toxin + 0.1 * geo.sample(f.flora, x, y), 0.0, 1.0)
        g = self.graph
        linked = g.linked
        return WorldFrame(
            step=self.step_count,
            t=self.t,
            node_ids=tuple(nodes.ids),
            positions=nodes.pos.astype(np.float32),
            potential_mv=self.spiking.potential.astype(np.float32),
            toxin=toxin.astype(np.float32),
            waste=geo.sample(f.waste, x, y).astype(np.float32),
            moisture=moisture.astype(np.float32),
            activity=(self.spiking.activity * nodes.presence).astype(np.float32),
            live=np.zeros(len(nodes), bool),
            links=np.stack([g.a[linked], g.b[linked]], axis=1).astype(np.int32).reshape(-1, 2),
            flow=g.flow[linked].astype(np.float32),
            thickness=g.thickness[linked].astype(np.float32),
            fields={name: getattr(f, name).copy() for name in FIELD_NAMES},
            events=tuple(events),
            aspect=self.aspect,
            kinds=tuple(nodes.kinds),
        )

    # -- snapshots ------------------------------------------------------------------------------
    def _parts(self) -> dict[str, object]:
        s = self.spiking
        return {"kernel": self, "fields": self.fields, "nodes": self.nodes, "graph": self.graph, "spiking": s,
                "trains": s.trains, "bursts": s.bursts, "growth": self.growth}

    def _rngs(self) -> dict[str, np.random.Generator]:
        return {"kernel": self.rng, "trains": self.spikes.rng, "noise": self.spiking.noise_rng,
                "drift": self.spiking.drift_rng}

    def save_state(self) -> tuple[dict[str, Any], Arrays]:
        """The whole state as plain values and arrays (:mod:`installation.core.snapshot`)."""
        meta: dict[str, Any] = {}
        arrays: Arrays = {}
        for prefix, part in self._parts().items():
            attributes(part, prefix, arrays, meta)
        meta["grid"] = [self.geometry.rows, self.geometry.cols]
        meta["aspect"] = self.geometry.aspect
        meta["pending_joins"] = [list(join) for join in self.nodes.pending_joins]
        meta["clusters"] = [vars(cluster).copy() for cluster in self.cluster_watch.clusters]
        meta["interference"] = [vars(zone).copy() for zone in self.spiking.interference]
        meta["burst_recent"] = list(self.spiking.bursts.recent)
        meta["rngs"] = {name: rng_state(rng) for name, rng in self._rngs().items()}
        return meta, arrays

    def restore_state(self, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        """Put back what :meth:`save_state` took, into a kernel grown from the same seed on the same
        grid. Raises :class:`SnapshotError` (or KeyError, ValueError) for a state that does not fit."""
        if list(meta["grid"]) != [self.geometry.rows, self.geometry.cols]:
            raise SnapshotError(f"field grid {meta['grid']} is not this kernel's "
                                f"{[self.geometry.rows, self.geometry.cols]}")
        count = len(meta["nodes.ids"])
        for name in ("nodes.pos", "nodes.presence", "spiking.activity", "trains.start_h"):
            if len(arrays[name]) != count:
                raise SnapshotError(f"{name} has {len(arrays[name])} rows for {count} nodes")
        for prefix, part in self._parts().items():
            restore_attributes(part, prefix, arrays, meta)
        self.geometry.aspect = float(meta["aspect"])
        nodes = self.nodes
        nodes.ids, nodes.kinds = [str(i) for i in meta["nodes.ids"]], [str(k) for k in meta["nodes.kinds"]]
        nodes._where = {node_id: index for index, node_id in enumerate(nodes.ids)}
        nodes.pending_joins = [(float(j[0]), str(j[1]), float(j[2]), float(j[3]), str(j[4]))
                               for j in meta["pending_joins"]]
        self.cluster_watch.clusters = [Cluster(**cluster) for cluster in meta["clusters"]]
        self.spiking.interference = [Interference(**zone) for zone in meta["interference"]]
        self.spiking.bursts.recent.clear()
        self.spiking.bursts.recent.extend(float(t) for t in meta["burst_recent"])
        for name, rng in self._rngs().items():
            set_rng_state(rng, meta["rngs"][name])
        self.growth.influence.stale = True
        self.outbox = []

    def state_hash(self) -> str:
        """A digest of the whole state: equal for equal seeds and inputs, on the same machine."""
        digest = hashlib.sha256()
        digest.update(repr((self.step_count, self.t, self.now_h, self.ids, self.kinds)).encode())
        g, f, s, n = self.graph, self.fields, self.spiking, self.nodes
        arrays = (n.pos, n.presence, s.activity, s.potential, s.drift, g.a, g.b, g.progress, g.linked,
                  g.thickness, g.flow, f.waste, f.toxin, f.density, f.flora, f.purify, f.shield,
                  s.trains.start_h, s.trains.amplitude, s.trains.next_h, s.trains.trigger_h)
        for array in arrays:
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()
