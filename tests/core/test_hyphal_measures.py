"""The hyphal measures on pictures whose answer is known: a filled area, a line, a flat fill, a
branching network, noise."""

from __future__ import annotations

import numpy as np

from installation.core.hyphal_measures import box_dimension, box_mean, fine_energy, hyphal_layer, luma, measure


def test_box_dimension_of_known_sets() -> None:
    full = np.ones((256, 256), bool)
    assert abs(box_dimension(full) - 2.0) < 0.01
    line = np.zeros((256, 256), bool)
    line[128, :] = True
    assert abs(box_dimension(line) - 1.0) < 0.05
    assert box_dimension(np.zeros((64, 64), bool)) == 0.0


def test_box_dimension_of_a_branching_tree_lies_between() -> None:
    # An H-tree drawn with one-pixel lines: branches halve at each level, so the set fills the
    # plane more than a line and less than an area.
    layer = np.zeros((512, 512), bool)

    def branch(x: float, y: float, length: float, horizontal: bool, depth: int) -> None:
        if depth == 0 or length < 2:
            return
        half = length / 2
        if horizontal:
            layer[int(y), int(x - half):int(x + half) + 1] = True
            for end in (x - half, x + half):
                branch(end, y, length / np.sqrt(2), False, depth - 1)
        else:
            layer[int(y - half):int(y + half) + 1, int(x)] = True
            for end in (y - half, y + half):
                branch(x, end, length / np.sqrt(2), True, depth - 1)

    branch(256, 256, 200, True, 14)
    assert 1.3 < box_dimension(layer) < 2.0


def test_box_mean_matches_a_direct_mean() -> None:
    values = np.random.default_rng(1).random((20, 30))
    direct = np.pad(values, 2, mode="edge")[5:10, 7:12].mean()
    assert abs(box_mean(values, 2)[5 + 2 - 2, 7 + 2 - 2] - direct) < 1e-12


def test_a_flat_fill_holds_no_hyphae_and_filaments_do() -> None:
    flat = np.full((90, 160, 3), 200, np.uint8)
    assert measure(flat).coverage == 0.0 and fine_energy(flat) < 1e-12
    threads = np.zeros((90, 160, 3), np.uint8)
    threads[::6, :] = 180  # one-pixel threads every sixth row
    m = measure(threads)
    assert abs(m.coverage - hyphal_layer(threads).mean()) < 1e-12
    assert abs(m.coverage - 15 / 90) < 1e-9  # exactly the thread rows stand out
    assert m.fine_energy > 1.0


def test_luma_reads_bytes_and_floats_alike() -> None:
    pixel = np.array([[[255, 128, 0]]], np.uint8)
    assert abs(luma(pixel)[0, 0] - luma(pixel.astype(np.float64) / 255.0)[0, 0]) < 1e-12
