"""Who is in the network: nodes join, glide to where an act wants them, fade in and out, and leave.

:class:`Nodes` holds each node's id, kind, position and presence, all indexed alike. A node that
leaves fades out first; when it is gone :meth:`Nodes.advance` drops it and returns the mask of the
nodes kept, so the kernel can drop it from every other per-node array too (links, spike state).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from installation.core.seeds import NODE_KINDS, Seed
from installation.sim.fields import Geometry

FADE_S = 1.5

Join = tuple[float, str, float, float, str]  # when (show s), id, x, y, kind


class Nodes:
    def __init__(self, geometry: Geometry) -> None:
        self.geometry = geometry
        self.ids: list[str] = []
        self.kinds: list[str] = []
        self.pos = np.zeros((0, 2))
        self.goal = np.zeros((0, 2))
        self.presence = np.zeros(0)
        self.fading = np.zeros(0, np.int8)  # +1 fading in, -1 fading out
        self.external = np.zeros(0, bool)
        self.glide_left_s = 0.0
        self.pending_joins: list[Join] = []  # an act change's newcomers, each joining at its own time
        self.relink = True  # nodes joined or left: candidates must be rebuilt
        self.moved = False  # nodes moved: rebuild soon
        self._where: dict[str, int] = {}  # node id -> index
        self.changes = 0  # counts changes of the ids' indices (a join, a renumbering), for caches
        self._joined = 0

    def __len__(self) -> int:
        return len(self.ids)

    def index_of(self, node_id: str) -> int | None:
        return self._where.get(node_id)

    def distances(self, x: float, y: float) -> NDArray[np.float64]:
        """Every node's distance from (x, y), in canvas heights (x scaled by the aspect)."""
        return np.hypot((self.pos[:, 0] - x) * self.geometry.aspect, self.pos[:, 1] - y)

    def fresh_id(self) -> str:
        while True:
            self._joined += 1
            candidate = f"j{self._joined:03d}"
            if candidate not in self._where:
                return candidate

    def add(self, node_id: str, x: float, y: float, kind: str, *, external: bool, fade_in: bool) -> bool:
        """A node joins at (x, y), clamped to the canvas. False if it exists (a leaving one then stays)."""
        if node_id in self._where:
            index = self._where[node_id]
            if self.fading[index] < 0:
                self.fading[index] = 1
            return False
        self._where[node_id] = len(self.ids)
        self.changes += 1
        self.ids.append(node_id)
        self.kinds.append(kind if kind in NODE_KINDS else "node")
        point = np.array([[min(1.0, max(0.0, x)), min(1.0, max(0.0, y))]])
        self.pos = np.concatenate([self.pos, point])
        self.goal = np.concatenate([self.goal, point])
        self.presence = np.append(self.presence, 0.0 if fade_in else 1.0)
        self.fading = np.append(self.fading, np.int8(1 if fade_in else 0))
        self.external = np.append(self.external, external)
        self.relink = True
        return True

    def remove(self, node_id: str) -> int | None:
        """The node starts fading out (it leaves once gone); its index, or None if there is none."""
        index = self.index_of(node_id)
        if index is not None:
            self.fading[index] = -1
        return index

    def move(self, index: int, x: float, y: float) -> None:
        point = (min(1.0, max(0.0, x)), min(1.0, max(0.0, y)))
        if tuple(self.pos[index]) != point:
            self.pos[index] = self.goal[index] = point
            self.moved = True

    def retarget(self, seed: Seed, transition_s: float, t: float, rng: np.random.Generator) -> list[str]:
        """An act change: nodes glide to the seed's places and its newcomers are due to join within
        the transition. Returns the ids that must leave (absent from the seed and not live)."""
        wanted = {node.id: node for node in seed.nodes}
        self.pending_joins = []  # joins still due from an earlier act change are superseded
        leaving = []
        for index, node_id in enumerate(self.ids):
            node = wanted.pop(node_id, None)
            if node is not None:
                self.goal[index] = (node.x, node.y)
                if self.fading[index] < 0:  # it was leaving, but this act has it again
                    self.fading[index] = 1
            elif not self.external[index]:
                leaving.append(node_id)
        self.glide_left_s = max(transition_s, 1e-6)
        for node in wanted.values():
            when = t + float(rng.uniform(0.0, 0.8 * max(transition_s, 0.0)))
            self.pending_joins.append((when, node.id, node.x, node.y, node.kind))
        return leaving

    def due(self, t: float) -> list[Join]:
        """The pending joins due by show time ``t``, no longer pending."""
        due = [join for join in self.pending_joins if join[0] <= t]
        self.pending_joins = [join for join in self.pending_joins if join[0] > t]
        return due

    def advance(self, dt: float) -> NDArray[np.bool_] | None:
        """Glide and fade for ``dt``; drop the nodes faded out. Returns the mask kept, or None if none left."""
        if self.glide_left_s > 0:
            self.pos += (self.goal - self.pos) * min(1.0, dt / self.glide_left_s)
            self.glide_left_s -= dt
            self.moved = True
        self.presence = np.clip(self.presence + self.fading * dt / FADE_S, 0.0, 1.0)
        self.fading[(self.fading > 0) & (self.presence >= 1.0)] = 0
        gone = (self.fading < 0) & (self.presence <= 0.0)
        if not gone.any():
            return None
        keep = ~gone
        self.ids = [i for i, k in zip(self.ids, keep, strict=True) if k]
        self._where = {node_id: index for index, node_id in enumerate(self.ids)}
        self.changes += 1
        self.kinds = [i for i, k in zip(self.kinds, keep, strict=True) if k]
        for name in ("pos", "goal", "presence", "fading", "external"):
            setattr(self, name, getattr(self, name)[keep])
        self.relink = True
        return keep
