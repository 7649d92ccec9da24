"""The mapping's geometry against independent references: the corner pin against a direct solve
of the DLT system, the mesh warp's identity and its control points, the blend's ramps summing
in light, the masks' alpha, and the corner pins refused."""

from __future__ import annotations

import numpy as np
import pytest

from installation.core.mapping import (
    UNIT_QUAD,
    Blend,
    Edge,
    Mapping,
    Mask,
    Mesh,
    Quad,
    apply_homography,
    blend_factor,
    homography,
    mask_alpha,
    mesh_warp,
    pin_point,
    quad_problem,
    ramp,
    unpin_point,
    warp,
)

QUADS: list[Quad] = [
    UNIT_QUAD,
    ((0.01, 0.02), (1.0, 0.0), (1.0, 1.0), (0.0, 0.97)),  # the shipped mild keystone
    ((0.36, 0.04), (0.62, 0.04), (0.7, 0.96), (0.3, 0.96)),  # the shipped column
    ((0.1, 0.2), (0.9, 0.1), (0.8, 0.9), (0.2, 0.7)),
    ((-0.3, -0.2), (1.4, 0.1), (1.2, 1.3), (-0.1, 0.9)),  # past the raster's edges
    ((0.2, 0.1), (0.9, 0.3), (0.7, 0.9), (0.0, 0.7)),  # a parallelogram: affine
]


def dlt(corners: Quad) -> np.ndarray:
    """The homography from the unit square to ``corners`` by solving the 8x8 DLT system
    (h33 = 1) directly: for each (u, v) -> (x, y), h11 u + h12 v + h13 - x (h31 u + h32 v) = x
    and h21 u + h22 v + h23 - y (h31 u + h32 v) = y."""
    rows, rhs = [], []
    for (u, v), (x, y) in zip(UNIT_QUAD, corners, strict=True):
        rows.append([u, v, 1, 0, 0, 0, -x * u, -x * v])
        rows.append([0, 0, 0, u, v, 1, -y * u, -y * v])
        rhs += [x, y]
    h = np.linalg.solve(np.array(rows, dtype=np.float64), np.array(rhs, dtype=np.float64))
    return np.append(h, 1.0).reshape(3, 3)


def project(matrix: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    x, y, w = matrix @ np.vstack([u, v, np.ones_like(u)])
    return np.column_stack([x / w, y / w])


# -- corner pin -------------------------------------------------------------------------------

@pytest.mark.parametrize("corners", QUADS)
def test_homography_takes_the_unit_squares_corners_to_the_pin_and_agrees_with_a_dlt_solve(corners: Quad) -> None:
    matrix = homography(corners)
    unit = np.array(UNIT_QUAD)
    assert apply_homography(matrix, unit[:, 0], unit[:, 1]) == pytest.approx(np.array(corners), abs=1e-12)
    u, v = (grid.ravel() for grid in np.meshgrid(np.linspace(0, 1, 9), np.linspace(0, 1, 7)))
    reference = project(dlt(corners), u, v)
    assert apply_homography(matrix, u, v) == pytest.approx(reference, abs=1e-10)
    centre = pin_point(corners, (0.5, 0.5))  # the diagonals' crossing, as perspective puts it
    assert centre == pytest.approx(tuple(project(dlt(corners), np.array([0.5]), np.array([0.5]))[0]), abs=1e-12)
    assert unpin_point(corners, centre) == pytest.approx((0.5, 0.5), abs=1e-12)


def test_the_pin_maps_straight_lines_to_straight_lines() -> None:
    corners = QUADS[3]
    t = np.linspace(0, 1, 11)
    points = apply_homography(homography(corners), t, 0.3 + 0.4 * t)  # a line across the content
    direction = points[-1] - points[0]
    offsets = (points - points[0]) @ np.array([-direction[1], direction[0]])
    assert np.abs(offsets).max() < 1e-12


def test_degenerate_corners_are_refused() -> None:
    with pytest.raises(ValueError, match="degenerate"):
        homography(((0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (3.0, 0.0)))


def test_quad_problem_accepts_convex_pins_in_order_and_refuses_the_rest() -> None:
    for corners in QUADS:
        assert quad_problem(corners) is None
    bow_tie: Quad = ((0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0))
    counter_clockwise: Quad = ((0.0, 0.0), (0.0, 1.0), (1.0, 1.0), (1.0, 0.0))  # TL, BL, BR, TR
    rotated: Quad = ((1.0, 0.0), (0.0, 0.0), (0.0, 1.0), (1.0, 1.0))  # mirrored: TR first
    concave: Quad = ((0.0, 0.0), (1.0, 0.0), (0.4, 0.4), (0.0, 1.0))
    flat: Quad = ((0.0, 0.0), (0.5, 0.0), (1.0, 0.0), (0.0, 1.0))  # three in a line
    for corners in (bow_tie, counter_clockwise, rotated, concave, flat):
        assert quad_problem(corners) == ("the four corners must make a convex quad, in the order top-left, "
                                         "top-right, bottom-right, bottom-left"), corners


# -- mesh warp --------------------------------------------------------------------------------

@pytest.mark.parametrize(("columns", "rows"), [(2, 2), (3, 3), (4, 2), (5, 7), (17, 9), (33, 33)])
def test_an_identity_mesh_moves_nothing(columns: int, rows: int) -> None:
    rng = np.random.default_rng(columns * 100 + rows)
    u, v = rng.random(500), rng.random(500)
    u[:4], v[:4] = [0, 1, 0, 1], [0, 0, 1, 1]
    mesh = Mesh.identity(columns, rows)
    assert mesh.is_identity()
    assert np.abs(mesh_warp(mesh, u, v) - np.column_stack([u, v])).max() < 1e-12
    assert np.abs(mesh_warp(None, u, v) - np.column_stack([u, v])).max() == 0


@pytest.mark.parametrize(("columns", "rows", "index"), [(3, 3, 4), (4, 3, 5), (5, 5, 0), (5, 5, 24), (6, 4, 13)])
def test_a_moved_point_is_hit_at_its_grid_position_and_the_warp_stays_continuous(columns: int, rows: int,
                                                                                  index: int) -> None:
    target = (0.61, 0.37)
    mesh = Mesh.identity(columns, rows).moved(index, target)
    row, column = divmod(index, columns)
    at = mesh_warp(mesh, np.array([column / (columns - 1)]), np.array([row / (rows - 1)]))[0]
    assert tuple(at) == pytest.approx(target, abs=1e-12)
    grid = mesh_warp(mesh, *(g.ravel() for g in np.meshgrid(np.linspace(0, 1, columns), np.linspace(0, 1, rows))))
    assert grid == pytest.approx(np.array(mesh.points), abs=1e-12), "every control point is interpolated"
    # continuous: across each cell boundary the two sides meet, and a fine sampling has no jumps
    eps = 1e-9
    for c in range(1, columns - 1):
        u = c / (columns - 1)
        v = np.linspace(0, 1, 13)
        left = mesh_warp(mesh, np.full_like(v, u - eps), v)
        right = mesh_warp(mesh, np.full_like(v, u + eps), v)
        assert np.abs(left - right).max() < 1e-7
    step = 1 / 400
    t = np.arange(0, 1 + step / 2, step)
    for fixed in (0.0, 0.3, 0.5, 1.0):
        along_u = mesh_warp(mesh, t, np.full_like(t, fixed))
        along_v = mesh_warp(mesh, np.full_like(t, fixed), t)
        for line in (along_u, along_v):
            assert np.linalg.norm(np.diff(line, axis=0), axis=1).max() < 20 * step


def test_a_resized_mesh_keeps_the_warp() -> None:
    mesh = Mesh.identity(3, 3).moved(4, (0.55, 0.45))
    bigger = mesh.resized(5, 5)
    assert bigger.points[12] == pytest.approx((0.55, 0.45), abs=1e-12)  # the middle stays put
    assert np.abs(Mesh.identity(4, 4).resized(7, 3).grid() - Mesh.identity(7, 3).grid()).max() < 1e-12
    u, v = (g.ravel() for g in np.meshgrid(np.linspace(0, 1, 21), np.linspace(0, 1, 21)))
    assert np.abs(mesh_warp(bigger, u, v) - mesh_warp(mesh, u, v)).max() < 0.01, "close to the same warp"


def test_warp_is_the_mesh_then_the_pin() -> None:
    corners = QUADS[3]
    mesh = Mesh.identity(3, 3).moved(4, (0.6, 0.4))
    u, v = np.array([0.0, 0.5, 0.25, 1.0]), np.array([0.0, 0.5, 0.75, 1.0])
    meshed = mesh_warp(mesh, u, v)
    assert warp(Mapping(corners=corners, mesh=mesh), u, v) == pytest.approx(
        project(dlt(corners), meshed[:, 0], meshed[:, 1]), abs=1e-10)
    assert tuple(warp(Mapping(corners=corners, mesh=mesh), u[1:2], v[1:2])[0]) == pytest.approx(
        pin_point(corners, (0.6, 0.4)), abs=1e-12)


# -- soft-edge blend --------------------------------------------------------------------------

@pytest.mark.parametrize("curve", [0.5, 1.0, 2.0, 3.0, 8.0])
@pytest.mark.parametrize("gamma", [1.0, 1.8, 2.2, 3.0])
def test_two_facing_ramps_sum_to_one_in_light(curve: float, gamma: float) -> None:
    edge = Edge(0.125, curve, gamma)
    t = np.linspace(0, 1, 1001)
    light = ramp(t, edge) ** gamma + ramp(1 - t, edge) ** gamma
    assert np.abs(light - 1).max() < 1e-12
    assert ramp(np.array([0.0]), edge)[0] == 0 and ramp(np.array([1.0]), edge)[0] == pytest.approx(1.0)
    assert np.all(np.diff(ramp(t, edge)) >= 0), "a ramp only rises"


def test_the_worked_example_two_1920_projectors_overlapping_by_240_pixels() -> None:
    """Canvas 3600 wide; regions [0, 0.53333] and [0.46667, 1]; each shows 1920 px, the last 240
    (0.125 of its content) blended: across the overlap the two add up to full light."""
    canvas = 3600
    left_region, right_region = (0.0, 1920 / canvas), (1680 / canvas, 1.0)
    assert left_region[1] == pytest.approx(0.53333, abs=1e-5) and right_region[0] == pytest.approx(0.46667, abs=1e-5)
    width = 240 / 1920
    assert width == 0.125
    left = Blend(right=Edge(width, 2.0, 2.2))
    right = Blend(left=Edge(width, 2.0, 2.2))
    x = (np.arange(canvas) + 0.5) / canvas  # canvas pixel centres
    total = np.zeros_like(x)
    for blend, (x0, x1) in ((left, left_region), (right, right_region)):
        shown = (x >= x0) & (x <= x1)
        u = (x[shown] - x0) / (x1 - x0)
        factor, _ = blend_factor(blend, u, np.full_like(u, 0.5))
        total[shown] += factor ** 2.2
    assert np.abs(total - 1).max() < 1e-9
    overlap = (x > right_region[0]) & (x < left_region[1])
    assert overlap.sum() == 240


def test_blend_factor_and_the_black_lift_region() -> None:
    blend = Blend(left=Edge(0.2), top=Edge(0.1, 1.0, 1.0))
    u = np.array([0.0, 0.1, 0.2, 0.5, 1.0, 0.5])
    v = np.array([0.5, 0.5, 0.5, 0.5, 0.5, 0.05])
    factor, outside = blend_factor(blend, u, v)
    assert factor[0] == 0 and factor[2] == pytest.approx(1) and factor[3] == factor[4] == 1
    assert factor[1] ** 2.2 == pytest.approx(0.5)  # the middle of a ramp gives half the light
    assert factor[5] == pytest.approx(0.5)  # linear, gamma 1: half way is half
    assert outside.tolist() == [False, False, True, True, True, False]
    assert blend_factor(Blend(), u, v)[0].tolist() == [1.0] * 6


# -- masks ------------------------------------------------------------------------------------

def square_mask(feather: float = 0.0, invert: bool = False) -> Mask:
    # Its outline runs through pixel centres of a 100x100 output: x = 0.255 is column 25's centre.
    return Mask(((0.255, 0.255), (0.745, 0.255), (0.745, 0.745), (0.255, 0.745)), feather, invert)


def test_mask_alpha_outside_inside_and_on_a_feathered_outline() -> None:
    alpha = mask_alpha((square_mask(0.04),), (100, 100))
    assert alpha.shape == (100, 100)
    assert alpha[5, 5] == 0 and alpha[95, 50] == 0 and alpha[50, 2] == 0  # well outside
    assert alpha[50, 50] == 1 and alpha[30, 30] == 1  # well inside
    assert alpha[50, 25] == pytest.approx(0.5, abs=1e-9)  # on the left outline
    assert alpha[25, 50] == pytest.approx(0.5, abs=1e-9)  # on the top outline
    assert alpha[50, 74] == pytest.approx(0.5, abs=1e-9)  # on the right outline
    assert 0 < alpha[50, 24] < 0.5 < alpha[50, 26] < 1, "the feather is soft across the outline"
    hard = mask_alpha((square_mask(),), (100, 100))
    assert set(np.unique(hard)) <= {0.0, 1.0} and hard[50, 50] == 1 and hard[5, 5] == 0


def test_an_inverted_mask_swaps_inside_and_outside() -> None:
    kept = mask_alpha((square_mask(0.04),), (100, 100))
    hidden = mask_alpha((square_mask(0.04, invert=True),), (100, 100))
    assert np.abs(hidden - (1 - kept)).max() < 1e-12
    assert hidden[50, 50] == 0 and hidden[5, 5] == 1 and hidden[50, 25] == pytest.approx(0.5, abs=1e-9)


def test_masks_multiply_and_the_feather_is_in_output_heights_on_a_wide_output() -> None:
    assert mask_alpha((), (8, 4)).tolist() == np.ones((4, 8)).tolist()
    both = mask_alpha((square_mask(), Mask(((0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)))), (100, 100))
    assert both[50, 40] == 1 and both[50, 60] == 0  # the second keeps only the left half
    wide = mask_alpha((Mask(((0.25, 0.0), (0.75, 0.0), (0.75, 1.0), (0.25, 1.0)), 0.1),), (400, 100))
    # the outline at x = 0.25 of 400 px is column 100's left edge; the feather is 0.1 of the height: 10 px
    row = wide[50]
    assert row[80] == 0 and row[120] == 1
    soft = np.flatnonzero((row[:200] > 0) & (row[:200] < 1))
    assert 9 <= len(soft) <= 11 and soft.min() >= 94 and soft.max() <= 106
    assert np.abs(row[::-1] - row).max() < 1e-9, "both outlines alike"
