"""The coarse fields on a grid (rows = y, columns = x, values 0..1) and the operations on them.

``waste``, ``toxin``, ``density`` (hyphae) and ``flora`` are what the frame carries; the kernel
also keeps ``mask`` (the mural), ``purify`` (a purification boost that fades), ``cleansed``
(toxin recently consumed: where flora will bloom), ``shield`` (seconds of protection left)
and the seed's ``waste`` and ``toxin`` targets that waste returns to and act changes blend to.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Grid = NDArray[np.float32]
Floats = NDArray[np.float64]
FLORA_FADE_S = 600.0


def blur(grid: Grid) -> Grid:
    """A 3x3 box blur with edges clamped: diffusion's one step, in slices (no copies of rolls)."""
    padded = np.pad(grid, 1, mode="edge")
    rows = padded[:-2] + padded[1:-1] + padded[2:]
    return ((rows[:, :-2] + rows[:, 1:-1] + rows[:, 2:]) * np.float32(1 / 9)).astype(np.float32, copy=False)


@dataclass
class Geometry:
    rows: int
    cols: int
    aspect: float

    def cells(self, x: Floats, y: Floats) -> NDArray[np.intp]:
        """Flat cell index of canvas points (0..1 each)."""
        col = np.clip((x * self.cols).astype(np.intp), 0, self.cols - 1)
        row = np.clip((y * self.rows).astype(np.intp), 0, self.rows - 1)
        return row * self.cols + col

    def sample(self, grid: Grid, x: Floats, y: Floats) -> Floats:
        return grid.ravel()[self.cells(x, y)].astype(np.float64)

    def distance(self, x: float, y: float) -> Grid:
        """Distance of every cell centre from (x, y), in canvas heights (round on a wide canvas)."""
        ys = (np.arange(self.rows, dtype=np.float32) + 0.5) / self.rows
        xs = (np.arange(self.cols, dtype=np.float32) + 0.5) / self.cols
        return np.hypot((xs[None, :] - x) * self.aspect, ys[:, None] - y).astype(np.float32)

    def disc(self, x: float, y: float, radius: float) -> Grid:
        """A soft disc: 1 at the centre falling smoothly to 0 at ``radius``."""
        d = self.distance(x, y) / max(radius, 1e-6)
        return np.clip(1.0 - d * d, 0.0, 1.0).astype(np.float32) ** 2

    def band(self, x: float, y: float, angle: float, half_width: float) -> Grid:
        """1 inside a straight band through (x, y) at ``angle`` radians, fading at its edges."""
        ys = (np.arange(self.rows, dtype=np.float32) + 0.5) / self.rows
        xs = (np.arange(self.cols, dtype=np.float32) + 0.5) / self.cols
        nx, ny = -np.sin(angle), np.cos(angle)
        d = np.abs((xs[None, :] - x) * self.aspect * nx + (ys[:, None] - y) * ny)
        return np.clip(1.5 - d / max(half_width, 1e-6), 0.0, 1.0).astype(np.float32)

    def splat(self, x: Floats, y: Floats, weights: Floats) -> Grid:
        """Sum weighted points into the grid (the network drawn coarsely)."""
        flat = np.bincount(self.cells(x.ravel(), y.ravel()), weights.ravel(), minlength=self.rows * self.cols)
        return flat.reshape(self.rows, self.cols).astype(np.float32)


class Fields:
    def __init__(self, geometry: Geometry, waste: Grid, toxin: Grid, mask: Grid) -> None:
        shape = (geometry.rows, geometry.cols)
        self.geometry = geometry
        self.waste = waste.copy()
        self.toxin = toxin.copy()
        self.density = np.zeros(shape, np.float32)
        self.flora = np.zeros(shape, np.float32)
        self.mask = mask.copy()
        self.purify = np.zeros(shape, np.float32)
        self.cleansed = np.zeros(shape, np.float32)
        self.shield = np.zeros(shape, np.float32)
        self.seed_waste = waste.copy()
        self.seed_toxin = toxin.copy()
        self.seed_mask = mask.copy()
        self.blend_left_s = 0.0

    def retarget(self, waste: Grid, toxin: Grid, mask: Grid, transition_s: float) -> None:
        """An act change: waste, toxin and the mask glide to the new seed's over ``transition_s``."""
        self.seed_waste, self.seed_toxin, self.seed_mask = waste.copy(), toxin.copy(), mask.copy()
        self.blend_left_s = max(transition_s, 1e-6)

    def blend(self, dt: float) -> None:
        if self.blend_left_s <= 0:
            return
        f = np.float32(min(1.0, dt / self.blend_left_s))
        self.waste += (self.seed_waste - self.waste) * f
        self.toxin += (self.seed_toxin - self.toxin) * f
        self.mask += (self.seed_mask - self.mask) * f
        self.blend_left_s -= dt

    def grow(self, dt: float, network: Grid, params: dict[str, float]) -> None:
        """Hyphae follow the network, creep along food and the mural, and die back elsewhere.

        The creep is logistic growth fed by neighbouring hyphae, so it advances as a front (about
        a cell per second at growth 1) along waste, toxin and the mask rather than appearing.
        """
        g = params["growth_rate"]
        d = self.density
        attract = self.waste + params["toxin_appetite"] * 0.5 * self.toxin + params["mask_steering"] * self.mask
        creep = 1.5 * g * attract * blur(d) * (1.0 - d)
        toward = np.where(network > d, 0.6 * g * (network - d), -0.08 * params["dieback"] * (d - network))
        d += np.float32(dt) * (toward + creep).astype(np.float32)
        np.clip(d, 0.0, 1.0, out=d)

    def feed(self, dt: float, params: dict[str, float]) -> Grid:
        """The network digests waste and consumes toxin; consumed toxin turns into flora later.

        Returns the toxin consumed this step (per cell).
        """
        step = np.float32(dt)
        d = self.density
        self.waste -= step * 0.25 * params["waste_appetite"] * d * self.waste
        eaten = step * 0.12 * params["toxin_appetite"] * (1.0 + 4.0 * self.purify) * d * self.toxin
        self.toxin -= eaten
        self.cleansed += eaten
        self.cleansed *= np.float32(np.exp(-dt / 25.0))
        regen = np.float32(dt * params["waste_regen"] / 60.0)
        self.waste += regen * (self.seed_waste - self.waste)
        grow = 30.0 * self.cleansed + 0.001 * d * (1.0 - self.toxin)
        self.flora += step * np.float32(params["flora_growth"]) * grow * (1.0 - self.flora)
        # Toxin kills flora; unfed, it fades over some ten minutes (a show that loops for weeks
        # must not end up all flora).
        self.flora -= step * (0.03 * self.toxin + np.float32(1 / FLORA_FADE_S)) * self.flora
        self.purify *= np.float32(np.exp(-dt / 20.0))
        np.maximum(self.shield - step, 0.0, out=self.shield)
        for grid in (self.waste, self.toxin, self.flora, self.cleansed):
            np.clip(grid, 0.0, 1.0, out=grid)
        return eaten
