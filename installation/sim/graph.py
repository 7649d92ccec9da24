"""The hyphal network: candidate links between near nodes, grown, fused, thickened, withered.

Every pair of nodes that may ever be linked is a *candidate* (each node's nearest
neighbours within reach). A candidate grows from both ends (``progress`` 0..1); when the
hyphae meet it becomes a link (anastomosis). Links thicken where flow is high and wither
where it is not; a link cut by a disruption starts again from a scar (negative progress).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]

NEIGHBOURS = 6
GROW_SPEED = 0.03  # canvas units per show second at growth_rate 1 and average attraction
SCAR = -0.6  # progress a cut link restarts from


class Graph:
    def __init__(self) -> None:
        self.a = np.zeros(0, np.int64)
        self.b = np.zeros(0, np.int64)
        self.progress = np.zeros(0)
        self.linked = np.zeros(0, bool)
        self.thickness = np.zeros(0)
        self.flow = np.zeros(0)
        self.age = np.zeros(0)

    def __len__(self) -> int:
        return len(self.a)

    def _fields(self) -> tuple[str, ...]:
        return ("a", "b", "progress", "linked", "thickness", "flow", "age")

    def select(self, mask: NDArray[np.bool_]) -> None:
        for name in self._fields():
            setattr(self, name, getattr(self, name)[mask])

    def rebuild(self, pos: Floats, aspect: float, reach: float) -> None:
        """Recompute the candidates after nodes moved, joined or left; links that exist stay."""
        pairs = candidate_pairs(pos, aspect, reach)
        old = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(self.a, self.b, strict=True))}
        keep_old = [i for key, i in old.items() if self.linked[i] or key in pairs]
        new_pairs = [key for key in sorted(pairs) if key not in old]
        index = np.array(sorted(keep_old), np.int64)
        self.select(np.isin(np.arange(len(self)), index))
        if new_pairs:
            added = np.array(new_pairs, np.int64).reshape(-1, 2)
            count = len(added)
            self.a = np.concatenate([self.a, added[:, 0]])
            self.b = np.concatenate([self.b, added[:, 1]])
            self.progress = np.concatenate([self.progress, np.zeros(count)])
            self.linked = np.concatenate([self.linked, np.zeros(count, bool)])
            self.thickness = np.concatenate([self.thickness, np.zeros(count)])
            self.flow = np.concatenate([self.flow, np.zeros(count)])
            self.age = np.concatenate([self.age, np.zeros(count)])

    def renumber(self, keep: NDArray[np.bool_]) -> None:
        """Drop candidates touching removed nodes and renumber the rest."""
        new_index = np.cumsum(keep) - 1
        self.select(keep[self.a] & keep[self.b])
        self.a = new_index[self.a]
        self.b = new_index[self.b]

    def lengths(self, pos: Floats, aspect: float) -> Floats:
        d = pos[self.b] - pos[self.a]
        return np.maximum(np.hypot(d[:, 0] * aspect, d[:, 1]), 1e-3)

    def degree(self, count: int) -> Ints:
        linked_a, linked_b = self.a[self.linked], self.b[self.linked]
        return np.bincount(np.concatenate([linked_a, linked_b]), minlength=count).astype(np.int64)

    def grow(self, dt: float, lengths: Floats, attraction: Floats, wanted: Ints, present: NDArray[np.bool_],
             growth_rate: float) -> NDArray[np.intp]:
        """Extend candidates whose ends still want links; returns the candidates that just fused."""
        deg = self.degree(len(wanted))
        hungry = (deg[self.a] < wanted[self.a]) | (deg[self.b] < wanted[self.b])
        growing = ~self.linked & hungry & present[self.a] & present[self.b]
        rate = growth_rate * GROW_SPEED * (0.25 + attraction) / lengths
        self.progress = np.where(growing, self.progress + dt * rate, self.progress)
        fused = np.flatnonzero(growing & (self.progress >= 1.0))
        self.linked[fused] = True
        self.progress[fused] = 1.0
        self.thickness[fused] = 0.15
        self.age[fused] = 0.0
        return fused

    def thicken(self, dt: float, flow: Floats, growth_rate: float, dieback: float) -> None:
        """Links follow their flow; thin, old links with little flow wither (and may regrow)."""
        self.flow = flow
        self.age += dt
        change = 0.2 * growth_rate * (flow - self.thickness) - 0.05 * dieback * self.thickness
        self.thickness = np.clip(np.where(self.linked, self.thickness + dt * change, 0.0), 0.0, 1.0)
        dying = self.linked & (self.thickness < 0.06 * (1.0 + dieback)) & (self.age > 4.0)
        self.linked[dying] = False
        self.progress[dying] = 0.3

    def link_nearest(self, lengths: Floats, count: int) -> None:
        """Each of ``count`` nodes' shortest candidate becomes a young link (how a seed's network starts)."""
        first = np.full(count, -1)
        for edge in np.argsort(lengths, kind="stable"):
            for end in (self.a[edge], self.b[edge]):
                if first[end] < 0:
                    first[end] = edge
        chosen = np.unique(first[first >= 0])
        self.linked[chosen] = True
        self.progress[chosen] = 1.0
        self.thickness[chosen] = 0.3
        self.flow[chosen] = 0.3

    def reknit(self, strength: float) -> None:
        """A surge: every hypha not yet linked grows on (a scar starts afresh) and every link thickens."""
        regrow = ~self.linked
        self.progress[regrow] = np.maximum(self.progress[regrow], 0.0) + 0.4 * strength
        self.thickness[self.linked] += 0.2 * strength

    def cut(self, which: NDArray[np.bool_]) -> int:
        cut = which & self.linked
        self.linked[which] = False
        self.progress[which] = SCAR
        self.thickness[which] = 0.0
        return int(cut.sum())

    def samples(self, pos: Floats, count: int, which: NDArray[np.intp] | None = None,
                grown: Floats | None = None) -> tuple[Floats, Floats]:
        """``count`` points along every candidate (or those in ``which``): x and y of shape (C, count).

        With ``grown`` (0..1 per candidate) the points cover only the hyphae grown so far from
        both ends: half of them from each end, up to ``grown`` of the way to the middle.
        """
        a, b = (self.a, self.b) if which is None else (self.a[which], self.b[which])
        t = ((np.arange(count) + 0.5) / count).astype(pos.dtype)[None, :]
        if grown is not None:
            g = grown.astype(pos.dtype)[:, None]
            t = np.where(t < 0.5, t * g, 1.0 - (1.0 - t) * g)
        xa, ya = pos[a, 0][:, None], pos[a, 1][:, None]
        xb, yb = pos[b, 0][:, None], pos[b, 1][:, None]
        return xa + (xb - xa) * t, ya + (yb - ya) * t


def candidate_pairs(pos: Floats, aspect: float, reach: float) -> set[tuple[int, int]]:
    """Each node's nearest neighbours within ``reach`` (canvas heights), as sorted index pairs.

    Up to :data:`GRID_FROM` nodes every node is measured against every other; beyond, against those
    in the grid cells around it, widening ring by ring only until its neighbours are certain (the
    same pairs, found in a time that grows with the nodes, not with their square)."""
    count = len(pos)
    if count < 2:
        return set()
    scaled = pos * np.array([aspect, 1.0])
    k = min(NEIGHBOURS, count - 1)
    nearest = np.zeros((count, k), np.int64)
    d2_nearest = np.zeros((count, k))
    closest = np.zeros(count, np.int64)
    rest = _grid_nearest(scaled, k, reach, nearest, d2_nearest, closest) if count > GRID_FROM else np.arange(count)
    # In blocks of rows, so 1,024 nodes need a few MB, not a full N x N at once more than needed.
    for start in range(0, len(rest), 256):
        rows = rest[start:start + 256]
        d2 = ((scaled[rows][:, None, :] - scaled[None, :, :]) ** 2).sum(axis=2)
        d2[np.arange(len(rows)), rows] = np.inf
        nearest[rows] = np.argpartition(d2, k - 1, axis=1)[:, :k]
        d2_nearest[rows] = np.take_along_axis(d2, nearest[rows], axis=1)
        closest[rows] = np.argmin(d2, axis=1)
    # The closest neighbour always counts, so no node is left out of the network.
    near = (d2_nearest <= reach * reach) | (nearest == closest[:, None])
    i = np.broadcast_to(np.arange(count)[:, None], nearest.shape)[near]
    j = nearest[near]
    return {(int(a), int(b)) for a, b in np.unique(np.stack([np.minimum(i, j), np.maximum(i, j)], axis=1), axis=0)}


GRID_FROM = 1024
_MOST_PER_CELL = 32  # more crowded than that, and the grid does not pay: those rows are measured against all
_MOST_CANDIDATES = 4096


def _grid_nearest(scaled: Floats, k: int, reach: float, nearest: Ints, d2_nearest: Floats, closest: Ints) -> Ints:
    """Fill the rows the grid settles; returns the rows left to measure against every node."""
    count = len(scaled)
    low = scaled.min(axis=0)
    span = scaled.max(axis=0) - low
    # ~4 nodes a cell, nodes spread evenly or along a line
    size = max(float(np.sqrt(span[0] * span[1] * 4 / count)), float(span.max()) * 4 / count, 1e-9)
    cells = (span // size).astype(np.int64) + 1
    cx, cy = (((scaled - low) // size).astype(np.int64)).T
    cell = cx * cells[1] + cy
    order = np.argsort(cell, kind="stable")
    starts = np.searchsorted(cell[order], np.arange(cells[0] * cells[1]))
    counts = np.diff(np.append(starts, count))
    most = int(counts.max())
    pending = np.arange(count)
    if most > _MOST_PER_CELL:
        return pending
    ring = 1
    while len(pending) and (2 * ring + 1) ** 2 * most <= _MOST_CANDIDATES:
        offsets = np.arange(-ring, ring + 1)
        ox, oy = (grid.ravel() for grid in np.meshgrid(offsets, offsets, indexing="ij"))
        gx, gy = cx[pending][:, None] + ox, cy[pending][:, None] + oy
        inside = (gx >= 0) & (gx < cells[0]) & (gy >= 0) & (gy < cells[1])
        around = np.where(inside, gx * cells[1] + gy, 0)
        slot = np.arange(most)
        valid = (slot < np.where(inside, counts[around], 0)[:, :, None]).reshape(len(pending), -1)
        candidates = order[np.minimum(starts[around][:, :, None] + slot, count - 1)].reshape(len(pending), -1)
        d2 = ((scaled[candidates] - scaled[pending][:, None, :]) ** 2).sum(axis=2)
        d2[~valid | (candidates == pending[:, None])] = np.inf
        if d2.shape[1] > k:
            part = np.argpartition(d2, k - 1, axis=1)[:, :k]
            d2_part = np.take_along_axis(d2, part, axis=1)
            best = np.argmin(d2, axis=1)
            radius2 = (ring * size) ** 2  # every node nearer than this is among the candidates
            d2_best = d2[np.arange(len(pending)), best]
            done = (d2_best <= radius2) & ((d2_part.max(axis=1) <= radius2) | (ring * size >= reach))
            rows = pending[done]
            nearest[rows] = np.take_along_axis(candidates[done], part[done], axis=1)
            d2_nearest[rows] = d2_part[done]
            closest[rows] = candidates[done, best[done]]
            pending = pending[~done]
        ring += 1
    return pending
