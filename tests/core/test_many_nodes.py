"""Thousands of live nodes: the kernel's large-world paths (neighbours through a grid, joins and the
link drawing spread over steps) and the mux's column blend, against the exact ways of doing it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from installation.core.frames import NodeReading
from installation.nodes.mux import NodeMux
from installation.sim.defaults import demo_seed
from installation.sim.graph import GRID_FROM, NEIGHBOURS, candidate_pairs
from installation.sim.growth import REDRAW_EVERY
from installation.sim.kernel import Kernel
from installation.sim.raster import draw_links, link_density


def brute_pairs(pos: np.ndarray, aspect: float, reach: float) -> set[tuple[int, int]]:
    """Each node's NEIGHBOURS nearest within reach, and its closest at any distance: the definition,
    one node at a time."""
    scaled = pos * np.array([aspect, 1.0])
    pairs = set()
    for i in range(len(pos)):
        d2 = ((scaled - scaled[i]) ** 2).sum(axis=1)
        d2[i] = np.inf
        order = np.argsort(d2, kind="stable")
        for rank, j in enumerate(order[:NEIGHBOURS]):
            if d2[j] <= reach * reach or rank == 0:
                pairs.add((min(i, int(j)), max(i, int(j))))
    return pairs


@pytest.mark.parametrize("layout", ["even", "clustered", "a line"])
def test_the_grid_finds_the_same_neighbours(layout: str) -> None:
    rng = np.random.default_rng(7)
    count = GRID_FROM + 500
    pos = {"even": rng.random((count, 2)),
           "clustered": np.concatenate([0.5 + 0.03 * rng.random((count - 300, 2)), rng.random((300, 2))]),
           "a line": np.stack([rng.random(count), np.full(count, 0.5)], axis=1)}[layout]
    for reach in (0.05, 0.2, 0.5):
        assert candidate_pairs(pos, 16 / 9, reach) == brute_pairs(pos, 16 / 9, reach)


def test_a_large_network_drawn_in_parts_is_the_whole_drawing() -> None:
    kernel = Kernel(demo_seed(3, 64), grid=(36, 64))
    for _ in range(120):
        kernel.step(1 / 60, [], {})
    g, nodes, geo = kernel.graph, kernel.nodes, kernel.geometry
    whole = draw_links(g, nodes.pos, nodes.presence, geo, 0.2)
    parts = [draw_links(g, nodes.pos, nodes.presence, geo, 0.2, (k, REDRAW_EVERY)) for k in range(REDRAW_EVERY)]
    assert whole.any()
    np.testing.assert_allclose(np.sum(parts, axis=0), whole, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(link_density(np.sum(parts, axis=0, dtype=np.float32)), link_density(whole), atol=1e-5)


def test_five_thousand_live_nodes_join_and_are_blended_exactly() -> None:
    """Every one of 5,000 nodes joins (deterministically: two runs agree) and its value, fully live,
    is the frame's value; a node fallen silent fades back to the simulation."""
    def run() -> tuple[NodeMux, list]:
        mux = NodeMux(Kernel(demo_seed(5, 64), grid=(36, 64)), capacity=20_000)
        params = {"nodes.max_joined": 6000.0, "nodes.fade_s": 0.0, "nodes.silence_s": 0.5}
        frames = []
        for step in range(40):
            for k in range(5000):
                if step < 2 or k % 2:  # the even nodes fall silent after the first two steps
                    mux.push(NodeReading(f"s{k:04d}", 0.0, (k % 100 - 50) / 10 + step / 1000, math.nan, math.nan,
                                         math.nan, None, None, "mqtt"))
            frames.append(mux.step(1 / 60, [], params))
        return mux, frames

    mux, frames = run()
    _, frames_again = run()
    assert mux.joined == 5000
    for a, b in zip(frames, frames_again, strict=True):
        assert a.node_ids == b.node_ids and np.array_equal(a.potential_mv, b.potential_mv)
    last = frames[-1]
    at = np.array([last.index_of(f"s{k:04d}") for k in range(5000)])
    odd = np.arange(5000) % 2 == 1
    assert last.live[at[odd]].all() and not last.live[at[~odd]].any()
    expected = (np.arange(5000) % 100 - 50) / 10 + 39 / 1000
    np.testing.assert_allclose(last.potential_mv[at[odd]], expected[odd], rtol=1e-6)
