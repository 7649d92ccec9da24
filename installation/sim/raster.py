"""Drawing the network and its nodes coarsely onto the field grid (what the fields respond to)."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from installation.sim.fields import Geometry, Grid, blur
from installation.sim.graph import Graph

Floats = NDArray[np.float64]


def draw_links(graph: Graph, pos: Floats, presence: Floats, geometry: Geometry, reach: float,
               part: tuple[int, int] = (0, 1)) -> Grid:
    """Links by thickness, and hyphae still growing (faintly, as far as they have come from each end),
    summed onto the grid (unblurred: see :func:`link_density`). ``part`` (k, n) draws only every
    n-th candidate from the k-th, so a large network can be drawn a part a step."""
    g, geo = graph, geometry
    drawn = np.flatnonzero(g.linked | (g.progress > 0.0))  # candidates not yet growing draw nothing
    if part[1] > 1:
        drawn = drawn[drawn % part[1] == part[0]]
    if len(drawn) == 0:
        return np.zeros((geo.rows, geo.cols), np.float32)
    a, b = g.a[drawn], g.b[drawn]
    # About one sample per cell along the longest link (the blur closes the gaps), in float32.
    samples = int(min(256, max(8, math.ceil(reach * max(geo.rows, geo.cols)))))
    grown = np.where(g.linked[drawn], 1.0, np.clip(g.progress[drawn], 0.0, 1.0))
    xs, ys = g.samples(pos.astype(np.float32), samples, drawn, grown)
    weight = np.where(g.linked[drawn], 0.35 + 0.65 * g.thickness[drawn], 0.3 * grown)
    weight *= np.minimum(presence[a], presence[b])
    weight *= np.minimum(1.0, g.lengths(pos, geo.aspect)[drawn] * geo.rows / samples)
    return geo.splat(xs, ys, np.repeat(weight, samples))


def link_density(raw: Grid) -> Grid:
    """The drawn links as the density field the others respond to."""
    return np.clip(blur(raw) * 3.0, 0.0, 1.0)


def draw_nodes(geometry: Geometry, pos: Floats, weight: Floats) -> Grid | None:
    """Soft patches around the given nodes (None when there are none)."""
    if len(pos) == 0:
        return None
    near = blur(blur(geometry.splat(pos[:, 0], pos[:, 1], weight)))
    return np.clip(near * 4.0, 0.0, 1.0)
