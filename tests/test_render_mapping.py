"""Projection mapping on real GL (Xvfb + Mesa llvmpipe): what each output shows, measured in pixels
against the geometry of installation.core.mapping."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest

from installation.core.mapping import (
    IDENTITY,
    Blend,
    Color,
    Edge,
    Mapping,
    Mask,
    Mesh,
    Quad,
    Region,
    color_correct,
    homography,
    mask_alpha,
    mesh_warp,
)
from installation.render.offscreen import Offscreen
from tests.test_render import AGENTS, DT, world

pytestmark = pytest.mark.usefixtures("qt_session")
CANVAS = (400, 120)
LEFT: Region = (0.0, 0.0, 0.6, 1.0)  # 240 x 120 pixels of the canvas
RIGHT: Region = (0.4, 0.0, 1.0, 1.0)  # overlapping LEFT by 80 pixels (a third of each output)
OUTPUT = (240, 120)
OVERLAP = 80


@pytest.fixture(scope="module")
def offscreen() -> Iterator[Offscreen]:
    offscreen = Offscreen(CANVAS, agents=AGENTS, sim_height=120, seed=7)
    frame = world()
    for _ in range(12):
        offscreen.step(frame, {}, DT)
    offscreen.make_current()
    offscreen.world.compose()
    yield offscreen
    offscreen.close()


def read(offscreen: Offscreen, region: Region, mapping: Mapping = IDENTITY, pattern: str | None = None,
         size: tuple[int, int] = OUTPUT) -> np.ndarray:
    offscreen.make_current()
    return offscreen.world.read(region, size, mapping, pattern).astype(np.float64)


def test_overlapping_outputs_show_the_same_pixels_in_the_overlap(offscreen: Offscreen) -> None:
    left, right = read(offscreen, LEFT), read(offscreen, RIGHT)
    assert left.std() > 5, "the picture should have content"
    assert np.abs(left[:, -OVERLAP:] - right[:, :OVERLAP]).max() <= 1
    assert np.abs(left[:, :OVERLAP] - right[:, :OVERLAP]).mean() > 3, "and different pixels elsewhere"


@pytest.mark.parametrize(("curve", "gamma"), [(2.0, 2.2), (3.0, 1.8), (1.0, 2.4)])
def test_blend_ramps_of_two_projectors_add_up_to_an_even_brightness(offscreen: Offscreen, curve: float,
                                                                   gamma: float) -> None:
    width = OVERLAP / OUTPUT[0]
    left = read(offscreen, LEFT, Mapping(blend=Blend(right=Edge(width, curve, gamma))), "white")[:, :, 0] / 255
    right = read(offscreen, RIGHT, Mapping(blend=Blend(left=Edge(width, curve, gamma))), "white")[:, :, 0] / 255
    light = left[:, -OVERLAP:] ** gamma + right[:, :OVERLAP] ** gamma  # what the wall receives
    assert np.abs(light - 1.0).max() < 0.03, light.mean(axis=0)
    ramp = left[60, -OVERLAP:]
    assert ramp[0] > 0.9 and ramp[-1] < 0.2 and np.all(np.diff(ramp) <= 1e-9), "a ramp down to the edge"
    assert left[:, : OUTPUT[0] - OVERLAP].min() == 1.0, "no dimming outside the overlap"


def test_black_lift_raises_black_outside_the_ramps_only(offscreen: Offscreen) -> None:
    mapping = Mapping(blend=Blend(right=Edge(OVERLAP / OUTPUT[0]), black_lift=0.1))
    black = read(offscreen, LEFT, mapping, "black")[:, :, 0]
    assert np.abs(black[:, : OUTPUT[0] - OVERLAP - 1] - 0.1 * 255).max() <= 1
    assert black[:, -OVERLAP + 1:].max() == 0


def _bar_of(rgb: np.ndarray) -> np.ndarray:
    """Which of the seven colour bars (white, yellow, cyan, green, magenta, red, blue) each pixel is."""
    bars = 0.75 * 255 * np.array([[1, 1, 1], [1, 1, 0], [0, 1, 1], [0, 1, 0], [1, 0, 1], [1, 0, 0], [0, 0, 1]])
    return np.argmin(((rgb[..., None, :] - bars) ** 2).sum(-1), axis=-1)


def test_a_corner_pin_puts_the_pattern_where_the_homography_says(offscreen: Offscreen) -> None:
    """The colour bars' edges (content u = k/7 of the canvas) land where the homography puts them,
    within a pixel, on every row: a true perspective warp, which two affine triangles are not."""
    corners: Quad = ((0.1, 0.05), (0.95, 0.2), (0.85, 0.9), (0.02, 0.98))
    size = (320, 240)
    image = read(offscreen, (0.0, 0.0, 1.0, 1.0), Mapping(corners=corners), "bars", size)
    (a, b, c), (d, e, f), (g, h, _) = homography(corners)
    errors = []
    for row in range(40, 150):  # rows in the top of the content, above the grey wedge, at every bar edge
        y = (row + 0.5) / size[1]
        bars = _bar_of(image[row])
        for k in range(1, 7):
            u = k / 7
            v = (d * u + f - y * (g * u + 1)) / (y * h - e)  # solve H(u, v).y = y for v
            if not 0.05 < v < 0.75:
                continue
            x = (a * u + b * v + c) / (g * u + h * v + 1) * size[0]
            changes = np.nonzero((bars[:-1] == k - 1) & (bars[1:] == k))[0]
            assert len(changes), f"no edge of bar {k} on row {row}"
            errors.append(np.abs(changes + 1 - x).min())
    assert len(errors) > 300
    assert max(errors) <= 1.0, f"worst {max(errors):.2f} px"


def test_an_identity_mesh_changes_nothing(offscreen: Offscreen) -> None:
    corners: Quad = ((0.05, 0.1), (0.9, 0.0), (1.0, 1.0), (0.0, 0.9))
    pinned = read(offscreen, LEFT, Mapping(corners=corners))
    for columns, rows in ((2, 2), (3, 3), (5, 4)):
        meshed = read(offscreen, LEFT, Mapping(corners=corners, mesh=Mesh.identity(columns, rows)))
        differ = np.abs(meshed - pinned).max(axis=2) > 1
        # only a few pixels of the outline, whose centres lie on the quad's edge, may flip
        assert differ.sum() <= 0.002 * differ.size, (columns, rows, differ.sum())


def test_a_mesh_warp_moves_the_picture_as_the_spline_says(offscreen: Offscreen) -> None:
    """The bars' edges bend through a moved mesh point where :func:`mesh_warp` (a Catmull-Rom
    surface) puts them, within a pixel, and the mesh's fixed outline stays put."""
    mesh = Mesh.identity(3, 3).moved(4, (0.62, 0.5))  # the centre, pushed right: x moves, y does not
    size = (280, 240)
    image = read(offscreen, (0.0, 0.0, 1.0, 1.0), Mapping(mesh=mesh), "bars", size)
    errors, bends = [], []
    for row in range(10, 185):  # above the grey wedge (content v < 0.8)
        v = (row + 0.5) / size[1]
        bars = _bar_of(image[row])
        for k in range(1, 7):
            x = mesh_warp(mesh, np.array([k / 7]), np.array([v]))[0, 0] * size[0]
            changes = np.nonzero((bars[:-1] == k - 1) & (bars[1:] == k))[0]
            assert len(changes), f"no edge of bar {k} on row {row}"
            errors.append(np.abs(changes + 1 - x).min())
            bends.append(x - k / 7 * size[0])
    assert max(errors) <= 1.0, f"worst {max(errors):.2f} px"
    assert max(bends) > 15, "the edges near the moved point bend visibly"


def test_a_mask_is_black_outside_and_feathered_as_set(offscreen: Offscreen) -> None:
    size = (240, 120)
    mask = Mask(((0.2, 0.2), (0.8, 0.25), (0.75, 0.8), (0.25, 0.75)), feather=0.1)
    image = read(offscreen, LEFT, Mapping(masks=(mask,)), "white", size)[:, :, 0]
    expected = mask_alpha((mask,), size) * 255
    assert np.abs(image - expected).max() <= 3
    assert image[5, 5] == 0 and image[60, 120] == 255, "black outside, open inside"
    edge = image[60, :120]  # across the left side, at mid height: a ramp about 0.1 of the height wide
    ramp = np.nonzero((edge > 10) & (edge < 245))[0]
    assert 8 <= len(ramp) <= 14, len(ramp)
    inverted = read(offscreen, LEFT, Mapping(masks=(replace(mask, invert=True),)), "white", size)[:, :, 0]
    assert inverted[5, 5] == 255 and inverted[60, 120] == 0


def test_colour_correction_matches_the_formula(offscreen: Offscreen) -> None:
    color = Color(brightness=0.05, contrast=1.3, gain=(1.0, 0.8, 0.6))
    plain = read(offscreen, LEFT) / 255
    corrected = read(offscreen, LEFT, Mapping(color=color)) / 255
    assert np.abs(corrected - color_correct(color, plain)).max() < 3 / 255
