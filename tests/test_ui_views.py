"""One world, many views: the organism is computed once per frame for every output window,
and outputs whose regions touch show one continuous picture (read back from the windows)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtGui import QImage

from installation.ui.gl_output import GlWorld
from tests.appkit import grab_all, pump, rgb_of, seam_break, start_app, stop_app

CANVAS = (640, 180)  # two 320x180 regions side by side


@pytest.mark.parametrize("outputs", [1, 3])
def test_the_world_steps_once_per_frame_whatever_the_number_of_views(qt_session: object, outputs: int) -> None:
    app = start_app(output_screens=(0,) * outputs, canvas=CANVAS)
    try:
        world = app.pictures
        assert isinstance(world, GlWorld) and len(world.views) == outputs
        assert pump(30, lambda: app.runtime.clock.frames >= 20 and world.world is not None), "not stepping"
        pump(0.5)
        # one simulation update and one picture per world frame, however many windows paint it
        assert world.world.renderer.frame_count == world.world.steps == app.runtime.clock.frames
        painted = [window["fps"] for window in app.runtime.build_status()["outputs"]]
        assert len(painted) == outputs and all(fps > 0 for fps in painted), painted
    finally:
        stop_app(app)


def test_two_outputs_whose_regions_touch_show_one_continuous_picture(qt_session: object) -> None:
    app = start_app(output_screens=(0, 0), canvas=CANVAS)
    try:
        world = app.pictures
        assert isinstance(world, GlWorld)
        # 60 frames for the hyphae to weave; a machine loaded by other work may paint only a few a second
        assert pump(90, lambda: app.runtime.clock.frames >= 60), f"{app.runtime.clock.frames} frames in 90 s"
        left, right = grab_all(app)
        assert left.mean() > 10 and right.mean() > 10, "an output is black"
        assert seam_break(left, right) < 1.5, "the picture breaks at the seam"
        # and the two windows together are the world's one picture (the preview, read right after)
        whole = rgb_of(world.preview(320).convertToFormat(QImage.Format.Format_RGB888))
        height = whole.shape[0]
        together = np.concatenate([np.asarray(Image.fromarray(image.astype(np.uint8)).resize((160, height)), np.float64)
                                   for image in (left, right)], axis=1)
        assert np.corrcoef(together.mean(axis=2).ravel(), whole.mean(axis=2).ravel())[0, 1] > 0.9
    finally:
        stop_app(app)


def test_the_world_outlives_the_gl_context_of_any_output(qt_session: object) -> None:
    """The first output's canvas and GL context are destroyed (as Qt does to an output whose
    window it re-creates); the world, in a context of its own, goes on and the others show it."""
    app = start_app(output_screens=(0, 0), canvas=CANVAS)
    try:
        world = app.pictures
        assert isinstance(world, GlWorld)
        assert pump(30, lambda: app.runtime.clock.frames >= 10 and world.world is not None), "not stepping"
        renderer, steps = world.world.renderer, world.world.steps
        app.views[0].close()
        assert pump(20, lambda: world.world.steps >= steps + 10), "the world stopped"
        assert world.world.renderer is renderer and world.failed == "", "the world was rebuilt or failed"
        before = app.view_clocks[1].frames
        assert pump(10, lambda: app.view_clocks[1].frames > before + 3), "the other output stopped painting"
        assert rgb_of(app.views[1].grab().convertToFormat(QImage.Format.Format_RGB888)).mean() > 10
    finally:
        stop_app(app)
