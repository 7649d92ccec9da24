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
    """Each node's nearest neighbours within ``reach`` (canvas heights), as sorted index pairs."""
    count = len(pos)
    if count < 2:
        return set()
    scaled = pos * np.array([aspect, 1.0])
    pairs: set[tuple[int, int]] = set()
    k = min(NEIGHBOURS, count - 1)
    # In blocks of rows, so 1,024 nodes need a few MB, not a full N x N at once more than needed.
    for start in range(0, count, 256):
        block = scaled[start:start + 256]
        d2 = ((block[:, None, :] - scaled[None, :, :]) ** 2).sum(axis=2)
        d2[np.arange(len(block)), np.arange(start, start + len(block))] = np.inf
        nearest = np.argpartition(d2, k - 1, axis=1)[:, :k]
        closest = np.argmin(d2, axis=1)
        for row, cols in enumerate(nearest):
            i = start + row
            for j in cols:
                # The closest neighbour always counts, so no node is left out of the network.
                if d2[row, j] <= reach * reach or j == closest[row]:
                    pairs.add((min(i, int(j)), max(i, int(j))))
    return pairs
