"""Projection mapping of one output, as plain values and the geometry behind them.

An output shows a region of the world's canvas. Its :class:`Mapping` says how that content
lands on the projector's raster, in this order:

1. **colour**: brightness, contrast and a gain per channel, to match projectors;
2. **soft-edge blend**: on each edge of the *content* a ramp (width, curve, gamma) so two
   projectors whose regions overlap add up to an even brightness; outside every ramp the
   black level is lifted (``black_lift``) to match the overlap's doubled black;
3. **mesh warp**: a grid of control points (any size, smooth between them) that moves the
   content inside the pinned area;
4. **corner pin**: a true perspective warp (a homography) of the unit square onto four points
   of the output;
5. **masks**: polygons on the output's raster, feathered, keeping their inside (or, inverted,
   hiding it).

Coordinates are fractions, top-left origin, y down: corners and masks in 0..1 of the output
window, mesh points in 0..1 of the pinned area, blend widths in 0..1 of the content. Feathers
are fractions of the output's height. The renderer (``render/mapping.py``) draws exactly what
these functions compute; the tests check its pixels against them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

Point = tuple[float, float]
Quad = tuple[Point, Point, Point, Point]  # top-left, top-right, bottom-right, bottom-left
Region = tuple[float, float, float, float]  # x0, y0, x1, y1 in 0..1 of the canvas
WHOLE: Region = (0.0, 0.0, 1.0, 1.0)
UNIT_QUAD: Quad = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
EDGES = ("left", "right", "top", "bottom")
MAX_MESH = 33  # control points per side
MAX_MASK_POINTS = 64
Floats = NDArray[np.float64]


@dataclass(frozen=True)
class Edge:
    """A soft-edge ramp: ``width`` in 0..1 of the content, ``curve`` its steepness (1 linear,
    2 the usual S), ``gamma`` the projector's (the ramp is made linear in light, not in signal)."""

    width: float = 0.0
    curve: float = 2.0
    gamma: float = 2.2


@dataclass(frozen=True)
class Blend:
    left: Edge = Edge()
    right: Edge = Edge()
    top: Edge = Edge()
    bottom: Edge = Edge()
    black_lift: float = 0.0  # added to black outside every ramp (0..0.5)

    def edge(self, name: str) -> Edge:
        return getattr(self, name)  # type: ignore[no-any-return]

    def with_edge(self, name: str, edge: Edge) -> Blend:
        if name not in EDGES:
            raise ValueError(f"no edge {name!r} (edges: {', '.join(EDGES)})")
        return replace(self, **{name: edge})  # type: ignore[arg-type]  # name is one of EDGES


@dataclass(frozen=True)
class Mesh:
    """``rows`` x ``columns`` control points, row by row, in 0..1 of the pinned area."""

    columns: int
    rows: int
    points: tuple[Point, ...]

    @classmethod
    def identity(cls, columns: int = 3, rows: int = 3) -> Mesh:
        if not (2 <= columns <= MAX_MESH and 2 <= rows <= MAX_MESH):
            raise ValueError(f"a mesh has 2 to {MAX_MESH} points a side")
        return cls(columns, rows, tuple((c / (columns - 1), r / (rows - 1))
                                        for r in range(rows) for c in range(columns)))

    def is_identity(self) -> bool:
        return self.points == Mesh.identity(self.columns, self.rows).points

    def grid(self) -> Floats:
        """The control points as an array (rows, columns, 2)."""
        return np.asarray(self.points, dtype=np.float64).reshape(self.rows, self.columns, 2)

    def moved(self, index: int, point: Point) -> Mesh:
        points = list(self.points)
        points[index] = point
        return replace(self, points=tuple(points))

    def resized(self, columns: int, rows: int) -> Mesh:
        """A mesh of another size with the same warp (sampled from this one)."""
        target = Mesh.identity(columns, rows)
        u = np.asarray([p[0] for p in target.points])
        v = np.asarray([p[1] for p in target.points])
        warped = mesh_warp(self, u, v)
        return replace(target, points=tuple((float(x), float(y)) for x, y in warped))


@dataclass(frozen=True)
class Mask:
    """A polygon on the output (0..1, y down). Its inside stays visible, unless ``invert``, which
    hides it; ``feather`` is the width of the soft edge, centred on the outline, in output heights."""

    points: tuple[Point, ...]
    feather: float = 0.0
    invert: bool = False


@dataclass(frozen=True)
class Color:
    brightness: float = 0.0  # added, -1..1
    contrast: float = 1.0  # around mid grey, 0..4
    gain: tuple[float, float, float] = (1.0, 1.0, 1.0)  # per channel, 0..4


@dataclass(frozen=True)
class Mapping:
    corners: Quad = UNIT_QUAD
    mesh: Mesh | None = None
    blend: Blend = field(default_factory=Blend)
    masks: tuple[Mask, ...] = ()
    color: Color = field(default_factory=Color)


IDENTITY = Mapping()


# -- corner pin -------------------------------------------------------------------------------

def quad_problem(corners: Quad) -> str | None:
    """Why ``corners`` cannot be a corner pin (not a convex quad in TL, TR, BR, BL order), or None."""
    points = np.asarray(corners, dtype=np.float64)
    turns = []
    for index in range(4):
        a, b, c = points[index], points[(index + 1) % 4], points[(index + 2) % 4]
        (ux, uy), (wx, wy) = b - a, c - b
        turns.append(float(ux * wy - uy * wx))  # np.cross of 2-vectors is deprecated (an error in the tests)
    # y runs down, so a clockwise outline on screen (TL, TR, BR, BL) turns positive
    if not all(turn > 1e-9 for turn in turns):
        return "the four corners must make a convex quad, in the order top-left, top-right, bottom-right, bottom-left"
    return None


def homography(corners: Quad) -> Floats:
    """The 3x3 matrix taking the unit square's (u, v, 1) to the quad ``corners`` (homogeneous)."""
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = corners
    # The unit square's corners (0,0), (1,0), (1,1), (0,1) go to corners 0, 1, 2, 3.
    dx1, dx2, dx3 = x1 - x2, x3 - x2, x0 - x1 + x2 - x3
    dy1, dy2, dy3 = y1 - y2, y3 - y2, y0 - y1 + y2 - y3
    if abs(dx3) < 1e-12 and abs(dy3) < 1e-12:  # a parallelogram: affine
        g = h = 0.0
    else:
        det = dx1 * dy2 - dx2 * dy1
        if abs(det) < 1e-15:
            raise ValueError("degenerate corner pin")
        g = (dx3 * dy2 - dx2 * dy3) / det
        h = (dx1 * dy3 - dx3 * dy1) / det
    return np.array([[x1 - x0 + g * x1, x3 - x0 + h * x3, x0],
                     [y1 - y0 + g * y1, y3 - y0 + h * y3, y0],
                     [g, h, 1.0]])


def apply_homography(matrix: Floats, u: Floats, v: Floats) -> Floats:
    """Points (u, v) through ``matrix``: an array (n, 2)."""
    ones = np.ones_like(np.asarray(u, dtype=np.float64))
    x, y, w = matrix @ np.vstack([np.asarray(u, dtype=np.float64).ravel(), np.asarray(v, dtype=np.float64).ravel(),
                                  ones.ravel()])
    return np.column_stack([x / w, y / w])


def pin_point(corners: Quad, point: Point) -> Point:
    x, y = apply_homography(homography(corners), np.array([point[0]]), np.array([point[1]]))[0]
    return float(x), float(y)


def unpin_point(corners: Quad, point: Point) -> Point:
    """Where in the pinned area (0..1) the output's ``point`` comes from."""
    inverse = np.linalg.inv(homography(corners)).astype(np.float64)
    x, y = apply_homography(inverse, np.array([point[0]]), np.array([point[1]]))[0]
    return float(x), float(y)


# -- mesh warp --------------------------------------------------------------------------------

def _padded(grid: Floats) -> Floats:
    """The control grid with one more ring of points, extrapolated linearly, so the spline
    reaches the outer points and a regular grid stays exactly regular."""
    rows = np.concatenate([2 * grid[:1] - grid[1:2], grid, 2 * grid[-1:] - grid[-2:-1]], axis=0)
    return np.concatenate([2 * rows[:, :1] - rows[:, 1:2], rows, 2 * rows[:, -1:] - rows[:, -2:-1]], axis=1)


def _catmull_rom_weights(t: Floats) -> Floats:
    """The four Catmull-Rom weights for parameter ``t`` (n,) -> (n, 4); they reproduce lines."""
    t2, t3 = t * t, t * t * t
    return 0.5 * np.stack([-t3 + 2 * t2 - t, 3 * t3 - 5 * t2 + 2, -3 * t3 + 4 * t2 + t, t3 - t2], axis=-1)


def mesh_warp(mesh: Mesh | None, u: Floats, v: Floats) -> Floats:
    """Where the mesh moves content points (u, v) in 0..1: an array (n, 2). Smooth (a Catmull-Rom
    surface through the control points); an identity mesh, or none, moves nothing."""
    u = np.clip(np.asarray(u, dtype=np.float64).ravel(), 0.0, 1.0)
    v = np.clip(np.asarray(v, dtype=np.float64).ravel(), 0.0, 1.0)
    if mesh is None:
        return np.column_stack([u, v])
    grid = _padded(mesh.grid())
    fx = u * (mesh.columns - 1)
    fy = v * (mesh.rows - 1)
    cx = np.minimum(np.floor(fx).astype(int), mesh.columns - 2)
    cy = np.minimum(np.floor(fy).astype(int), mesh.rows - 2)
    wx = _catmull_rom_weights(fx - cx)
    wy = _catmull_rom_weights(fy - cy)
    result = np.zeros((u.size, 2))
    for j in range(4):
        for i in range(4):
            # padded index: control point (cy + j - 1, cx + i - 1) sits at (cy + j, cx + i)
            result += (wy[:, j] * wx[:, i])[:, None] * grid[cy + j, cx + i]
    return result


def warp_homogeneous(mapping: Mapping, u: Floats, v: Floats) -> Floats:
    """Content points (u, v) through the mesh and the pin as homogeneous (x*w, y*w, w), (n, 3):
    what the renderer hands the GPU, which divides by w per pixel (a true perspective warp)."""
    warped = mesh_warp(mapping.mesh, u, v)
    return (homography(mapping.corners) @ np.vstack([warped.T, np.ones(len(warped))])).T


def warp(mapping: Mapping, u: Floats, v: Floats) -> Floats:
    """Where content points (u, v) land on the output (0..1): mesh, then corner pin."""
    points = warp_homogeneous(mapping, u, v)
    return points[:, :2] / points[:, 2:]


# -- soft-edge blend --------------------------------------------------------------------------

def ramp(t: Floats, edge: Edge) -> Floats:
    """The signal multiplier at ``t`` across a ramp (0 at the output's edge, 1 at its inner end).

    The light it gives, ``ramp ** gamma``, is an S-curve f with f(t) + f(1 - t) = 1, so two
    projectors whose ramps cover the same overlap from both sides sum to an even brightness.
    """
    t = np.clip(np.asarray(t, dtype=np.float64), 0.0, 1.0)
    light = np.where(t < 0.5, 0.5 * (2 * t) ** edge.curve, 1 - 0.5 * (2 * (1 - t)) ** edge.curve)
    return light ** (1.0 / edge.gamma)


def blend_factor(blend: Blend, u: Floats, v: Floats) -> tuple[Floats, Floats]:
    """(multiplier, outside every ramp?) at content points (u, v)."""
    u = np.asarray(u, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    factor = np.ones(np.broadcast(u, v).shape)
    outside = np.ones_like(factor, dtype=bool)
    for edge, distance in ((blend.left, u), (blend.right, 1 - u), (blend.top, v), (blend.bottom, 1 - v)):
        if edge.width > 0:
            factor = factor * ramp(distance / edge.width, edge)
            outside &= distance >= edge.width
    return factor, outside


# -- masks ------------------------------------------------------------------------------------

def _signed_distance(points: Floats, px: Floats, py: Floats) -> Floats:
    """Distance from (px, py) to the polygon's outline, positive inside (even-odd rule)."""
    distance = np.full(px.shape, np.inf)
    inside = np.zeros(px.shape, dtype=bool)
    count = len(points)
    for index in range(count):
        ax, ay = points[index]
        bx, by = points[(index + 1) % count]
        ex, ey = bx - ax, by - ay
        length = ex * ex + ey * ey
        t = np.clip(((px - ax) * ex + (py - ay) * ey) / length, 0.0, 1.0) if length > 0 else np.zeros_like(px)
        dx, dy = px - (ax + t * ex), py - (ay + t * ey)
        distance = np.minimum(distance, np.sqrt(dx * dx + dy * dy))
        crosses = (ay > py) != (by > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = ax + (py - ay) * ex / np.where(ey == 0, 1, ey)
        inside ^= crosses & (px < at)
    return np.where(inside, distance, -distance)


def mask_alpha(masks: tuple[Mask, ...], size: tuple[int, int]) -> Floats:
    """How much of each output pixel the masks let through, (height, width) in 0..1, top row
    first, sampled at pixel centres of an output ``size`` (width, height)."""
    width, height = size
    alpha = np.ones((height, width))
    if not masks:
        return alpha
    aspect = width / height
    # in output heights, so a feather is round on a wide output
    px, py = np.meshgrid((np.arange(width) + 0.5) / height, (np.arange(height) + 0.5) / height)
    for mask in masks:
        if len(mask.points) < 3:
            continue
        points = np.asarray(mask.points, dtype=np.float64) * (aspect, 1.0)
        distance = _signed_distance(points, px, py)
        if mask.feather > 0:
            keep = np.clip(0.5 + distance / mask.feather, 0.0, 1.0)
            keep = keep * keep * (3 - 2 * keep)
        else:
            keep = (distance > 0).astype(np.float64)
        alpha *= 1.0 - keep if mask.invert else keep
    return alpha


# -- colour -----------------------------------------------------------------------------------

def color_correct(color: Color, rgb: Floats) -> Floats:
    """``rgb`` (..., 3) in 0..1 through brightness, contrast and gain, as the output shader does."""
    adjusted = np.clip((np.asarray(rgb, dtype=np.float64) - 0.5) * color.contrast + 0.5 + color.brightness, 0, 1)
    return np.clip(adjusted * np.asarray(color.gain), 0.0, 1.0)
