"""How the network and the fields grow together, one step at a time.

Links grow toward food and the mural, fuse, thicken with flow or wither; the hyphal density
follows the links drawn onto the grid; purifier and waste-to-life nodes act on the ground around
them; the network digests waste and consumes toxin (:meth:`Fields.feed`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from installation.core.events import Event, EventKind
from installation.sim.fields import Fields, Grid
from installation.sim.graph import GRID_FROM, Graph
from installation.sim.membership import Nodes
from installation.sim.raster import draw_links, draw_nodes, link_density

KIND_LINKS = {"hub": 2, "workshop": 1}  # links a node of this kind wants beyond the others
MAX_FUSE_EVENTS = 6
LAYOUT_S = 0.5
REDRAW_EVERY = 4


class NodeInfluence:
    """Purifier nodes keep purifying around them; waste-to-life nodes turn waste into flora."""

    def __init__(self, nodes: Nodes, fields: Fields) -> None:
        self.nodes = nodes
        self.fields = fields
        self.stale = True  # nodes moved, joined or left: redraw the patches
        self._patches: dict[str, Grid | None] = {}

    def apply(self, dt: float) -> None:
        nodes, f = self.nodes, self.fields
        if self.stale or (nodes.fading != 0).any():
            for kind in ("purifier", "waste-to-life"):
                chosen = np.array([k == kind for k in nodes.kinds], bool)
                self._patches[kind] = draw_nodes(f.geometry, nodes.pos[chosen], nodes.presence[chosen])
            self.stale = False
        purify, flora = self._patches["purifier"], self._patches["waste-to-life"]
        if purify is not None:
            f.purify = np.maximum(f.purify, 0.5 * purify)
        if flora is not None:
            f.flora = np.clip(f.flora + np.float32(dt * 0.2) * flora * f.waste, 0.0, 1.0)


class Growth:
    """The graph's links between the nodes, and the fields they feed on."""

    def __init__(self, nodes: Nodes, graph: Graph, fields: Fields, reach: float) -> None:
        self.nodes = nodes
        self.graph = graph
        self.fields = fields
        self.reach = reach
        self.next_layout_t = 0.0
        self.links_cut = 0
        self.influence = NodeInfluence(nodes, fields)
        self._parts: list[Grid] = []  # a large network's drawing, a part redrawn each step
        self._steps = 0

    def _links_on_grid(self) -> Grid:
        """The links drawn onto the grid; in a world of thousands of nodes one REDRAW_EVERY-th of them
        is redrawn each step (the fields follow the network over seconds; drawing every link every
        step would be most of such a step)."""
        nodes, g, geo = self.nodes, self.graph, self.fields.geometry
        if len(nodes) <= GRID_FROM:
            self._parts = []
            return link_density(draw_links(g, nodes.pos, nodes.presence, geo, self.reach))
        if not self._parts:
            self._parts = [draw_links(g, nodes.pos, nodes.presence, geo, self.reach, (k, REDRAW_EVERY))
                           for k in range(REDRAW_EVERY)]
        else:
            k = self._steps % REDRAW_EVERY
            self._parts[k] = draw_links(g, nodes.pos, nodes.presence, geo, self.reach, (k, REDRAW_EVERY))
        self._steps += 1
        return link_density(np.sum(self._parts, axis=0, dtype=np.float32))

    def grow_initial(self) -> None:
        """A seed starts as a young network: each node already linked to its nearest neighbour."""
        nodes, g = self.nodes, self.graph
        g.rebuild(nodes.pos, nodes.geometry.aspect, self.reach)
        nodes.relink = False
        if len(g) == 0:
            return
        g.link_nearest(g.lengths(nodes.pos, nodes.geometry.aspect), len(nodes))
        self.fields.density = self._links_on_grid()

    def relayout(self, t: float, reach: float) -> None:
        """Rebuild the candidate links: at once when nodes joined or left; after moves or a change of
        ``reach`` at most every :data:`LAYOUT_S` (a glide or a slider moves them every step). A world
        of more than :data:`GRID_FROM` nodes (thousands of live nodes joining) rebuilds at most that
        often for joins too; a node that joined waits that long for its links."""
        nodes = self.nodes
        due = t >= self.next_layout_t
        if ((nodes.relink and (due or len(nodes) <= GRID_FROM))
                or ((nodes.moved or abs(reach - self.reach) > 1e-9) and due)):
            self.reach = reach
            self.graph.rebuild(nodes.pos, nodes.geometry.aspect, reach)
            nodes.relink = nodes.moved = False
            self.influence.stale = True
            self.next_layout_t = t + LAYOUT_S

    def step(self, dt: float, t: float, activity: NDArray[np.float64], boost: NDArray[np.float64],
             p: dict[str, float]) -> list[Event]:
        """Links grow, fuse, thicken or wither (with the nodes' ``activity``, faster in a ``boost``);
        the fields follow. Returns the events of links that joined two parts of the network."""
        g, f, nodes = self.graph, self.fields, self.nodes
        pos = nodes.pos
        events = []
        if len(g):
            lengths = g.lengths(pos, nodes.geometry.aspect)
            mx, my = (pos[g.a] + pos[g.b]).T / 2.0
            at = f.geometry.sample
            attraction = (at(f.waste, mx, my) + 0.5 * p["toxin_appetite"] * at(f.toxin, mx, my)
                          + p["mask_steering"] * at(f.mask, mx, my))
            wanted = 1 + round(4 * p["branching"]) + np.array([KIND_LINKS.get(k, 0) for k in nodes.kinds])
            degree_before = g.degree(len(nodes))
            fused = g.grow(dt, lengths, attraction, wanted, nodes.presence > 0.5, p["growth_rate"])
            joining = fused[(degree_before[g.a[fused]] > 0) & (degree_before[g.b[fused]] > 0)]
            for edge in joining[:MAX_FUSE_EVENTS]:
                x, y = (pos[g.a[edge]] + pos[g.b[edge]]) / 2.0
                events.append(Event(EventKind.LINK_FUSED, t, 1.0, float(x), float(y), source="sim",
                                    data={"a": float(g.a[edge]), "b": float(g.b[edge])}))
            waste = at(f.waste, pos[:, 0], pos[:, 1]) + at(f.toxin, pos[:, 0], pos[:, 1])
            surge = np.maximum(boost[g.a], boost[g.b]) > 0
            target = np.clip(0.15 + 0.6 * (activity[g.a] + activity[g.b]) / 2.0
                             + 0.8 * np.abs(waste[g.a] - waste[g.b]) + 0.3 * (waste[g.a] + waste[g.b]) / 2.0
                             + 0.5 * surge, 0.0, 1.0)
            flow = g.flow + (target - g.flow) * min(1.0, dt / 0.5)
            g.thicken(dt, flow, p["growth_rate"], p["dieback"])
            g.linked &= np.minimum(nodes.presence[g.a], nodes.presence[g.b]) > 0.0
        f.grow(dt, self._links_on_grid(), p)
        self.influence.apply(dt)
        f.feed(dt, p)
        return events

    def cut(self, band: Grid) -> NDArray[np.int64]:
        """Cut every link (or growing hypha) that crosses the band; returns the nodes at their ends."""
        g = self.graph
        if len(g) == 0:
            return np.zeros(0, np.int64)
        xs, ys = g.samples(self.nodes.pos, 16)
        hit = self.fields.geometry.sample(band, xs.ravel(), ys.ravel()).reshape(xs.shape).max(axis=1) > 0.5
        self.links_cut += g.cut(hit)
        return np.unique(np.concatenate([g.a[hit], g.b[hit]]))
