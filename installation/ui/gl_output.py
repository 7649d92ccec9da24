"""The GPU outputs: one world rendered once per frame, and a view of it in every output window.

:class:`GlWorld` keeps the :class:`~installation.render.world.World` in a GL context of its own
(a :class:`~installation.render.offscreen.HiddenContext` in the app's share group, tied to no
window) and steps it from the app's tick, once per frame whatever the number of outputs. Every
output window holds a :class:`WorldView`: a vispy canvas in the same GL share group
(``Qt.AA_ShareOpenGLContexts``, see :func:`share_gl_contexts`) that resamples its region of the
world's picture when it paints. A view never waits for another output and always shows the
latest picture; a step or a draw that fails is reported once and the last good picture stays.
docs/architecture.md ("One world, many views") says why this and not the alternatives measured.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping as MappingType
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QImage, QOpenGLContext
from PySide6.QtWidgets import QWidget

from installation.core.frames import WorldFrame
from installation.core.mapping import IDENTITY, WHOLE, Mapping
from installation.core.params import ParamBank, Value
from installation.render.offscreen import HiddenContext
from installation.render.patterns import pattern_code
from installation.render.resume import restore_picture
from installation.ui.output_view import FrameDone, Region, Scene

log = logging.getLogger(__name__)


def share_gl_contexts() -> None:
    """Put every GL context of the app in one share group. Call before the QApplication exists.

    vispy's Qt backend leaves sharing off unless ``VISPY_PYQT5_SHARE_CONTEXT`` is set (it read
    occasional crashes with old PyQt5 into it); measured here with PySide6 6.11 under Xvfb and
    llvmpipe, sampling one context's texture from another works (tests/test_ui_views.py).
    """
    os.environ["VISPY_PYQT5_SHARE_CONTEXT"] = "true"
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts, True)


class WorldView:
    """One output window's view: its region of the world's picture, resampled at every paint."""

    fades_itself = True  # the world's post pass applies render.blackout

    def __init__(self, world: GlWorld, canvas: Any, region: Region, frame_done: FrameDone) -> None:
        self.world = world
        self.canvas = canvas
        self.region = region
        self.mapping: Mapping = IDENTITY
        self.pattern: str | None = None  # a test pattern shown instead of the picture
        self.widget: QWidget = canvas.native
        self.failed = ""
        self._frame_done = frame_done
        self.counting = True  # a screenshot's extra paint is not an output frame
        canvas.events.draw.connect(self._on_draw)

    def _on_draw(self, event: object) -> None:
        from vispy import gloo

        started = time.perf_counter()
        width, height = self.canvas.physical_size
        try:
            # Opaque black: vispy clears the widget's alpha with the context's clear colour after
            # this draw, and a transparent output window is a black one on most screens.
            gloo.set_clear_color("black")
            if self.world.world is None:  # the first step has not run yet
                gloo.set_viewport(0, 0, width, height)
                gloo.clear(color=True)
                return
            self.world.fence.wait()
            self.world.world.show((width, height), self.region, self.mapping, self.pattern)
        except Exception as error:  # vispy would only print it: report once, keep the last picture
            message = f"output view failed: {error}"
            if message != self.failed:
                self.failed = message
                log.error("%s", message)
            return
        self.failed = ""
        if self.counting:
            self._frame_done(time.perf_counter() - started)

    def grab(self) -> QImage:
        """What this window shows, painted again now (a screenshot; the preview comes from the world)."""
        self.counting = False
        try:
            return self.widget.grabFramebuffer()  # type: ignore[attr-defined]
        finally:
            self.counting = True

    def close(self) -> None:
        self.canvas.close()


def world_context() -> HiddenContext:
    """A GL context of the app's share group that belongs to no window, for the world: an output
    window whose GL context Qt recreates (moved to another screen or GPU, hidden, re-parented)
    takes no world state with it (framebuffer objects, which the world renders into, are never
    shared between contexts)."""
    share = QOpenGLContext.globalShareContext()
    if share is None:
        raise RuntimeError("Qt has no global share context (share_gl_contexts() must run before the QApplication)")
    return HiddenContext(share, title="Myco world")


class GlWorld:
    """The world in a GL context of its own, stepped by the app's tick; the outputs' views."""

    def __init__(self, canvas_size: tuple[int, int], bank: ParamBank, frame_done: FrameDone,
                 quality: str = "medium", shader_dir: Path | None = None, follow_quality: bool = False,
                 hot_reload: bool = True, seed: int = 0) -> None:
        if not QCoreApplication.testAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts):
            raise RuntimeError("GL context sharing is off (share_gl_contexts() must run before the QApplication)")
        from installation.render.offscreen import gl_app

        gl_app()
        self.canvas_size = canvas_size
        self.bank = bank  # shader headers saved while running declare their inputs here
        self.quality = quality
        self.follow_quality = follow_quality  # rebuild when render.quality changes (not pinned by --quality)
        self.shader_dir = shader_dir
        self.hot_reload = hot_reload  # off on a cluster member: every member keeps the same shaders
        self.seed = seed  # the agents' first places (the engine's seed, as a headless output's)
        self.context = world_context()
        self.world: Any = None  # built by the first step
        self.resume: Any = None  # a resumed snapshot: its picture is uploaded before the world's next step
        self.fence: Any = None  # the picture's completion mark, waited for by every view
        self.views: list[WorldView] = []
        self.problems: list[str] = []  # shader problems (file:line: key: reason) of the last reload
        self.failed = ""
        self._frame_done = frame_done
        self._last_step = 0.0

    def add_view(self, region: Region, frame_done: FrameDone) -> WorldView:
        from vispy import app

        # Only the first output waits for its display's refresh: its swap paces the frame clock.
        # The others swap at once, so a second projector's vsync never stalls the GUI thread
        # (and with it the world and every other view) a second time per frame.
        canvas = app.Canvas(keys=None, show=False, size=(640, 360), vsync=not self.views, title="Myco output",
                            shared=self.context.canvas)
        view = WorldView(self, canvas, region, frame_done)
        self.views.append(view)
        return view

    def set_mapping(self, index: int, region: Region, mapping: Mapping) -> None:
        view = self.views[index]
        view.region, view.mapping = region, mapping
        view.canvas.update()

    def set_pattern(self, index: int, pattern: str | None) -> None:
        pattern_code(pattern)  # a ValueError naming the patterns for an unknown one
        view = self.views[index]
        view.pattern = pattern
        view.canvas.update()

    def show_frame(self, frame: WorldFrame, params: MappingType[str, Value], scene: Scene,
                   dt: float | None = None) -> None:
        """One step of the world for every view (by ``dt``; None: the time since the last step),
        then every view is asked to paint."""
        started = time.perf_counter()
        now = time.monotonic()
        if dt is None:
            dt = now - self._last_step if self._last_step else 1 / 60
        try:
            self.context.make_current()
            self._follow_quality(str(params.get("render.quality", self.quality)))
            if self.world is None:
                self._build()
            if self.resume is not None:  # before the step: this frame shows the resumed organism
                restore_picture(self.world.renderer, self.resume)
                self.resume = None
            self.world.follow_effects(scene.effects, scene.sound)
            problems = self.world.step(frame, params, dt, (scene.look_from, scene.look_to, scene.mix), scene.seed)
            self.context.flush()
            self.fence.mark()  # the views sample the picture from other contexts
        except Exception as error:  # report once; the views keep the last good picture
            message = f"world step failed: {error}"
            if message != self.failed:
                self.failed = message
                log.error("%s", message)
            return
        self.failed = ""
        self.problems = [str(problem) for problem in problems]
        self._last_step = now
        self._frame_done(time.perf_counter() - started)
        for view in self.views:
            view.canvas.update()

    def _build(self) -> None:
        from installation.render.gl_sync import Fence
        from installation.render.world import World

        self.world = World(self.canvas_size, self.quality, self.shader_dir, bank=self.bank, seed=self.seed)
        self.world.renderer.hot_reload = self.hot_reload
        self.fence = self.fence or Fence()

    def save_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The renderer's part of a snapshot, read back in the world's context (the GUI thread)."""
        if self.world is None:
            raise RuntimeError("the world has not been built yet")
        self.context.make_current()
        return self.world.renderer.save_state()  # type: ignore[no-any-return]

    def _follow_quality(self, wanted: str) -> None:
        """A new quality needs a new world (its agent and trail textures are sized by it)."""
        if not self.follow_quality or wanted == self.quality:
            return
        log.info("output quality %s -> %s: the hyphae weave again", self.quality, wanted)
        self.quality = wanted
        if self.world is not None:
            self.world.close()
            self.world = None

    def preview(self, width: int) -> QImage:
        """The latest picture ``width`` wide, read back at that size only (empty before the first step)."""
        if self.world is None:
            return QImage()
        return self._read(self.world.preview_size(width), WHOLE, IDENTITY, None)

    def output_preview(self, index: int, width: int) -> QImage:
        """What output ``index`` shows, mapping and test pattern included, ``width`` wide at its
        window's aspect (empty before the first step)."""
        view = self.views[index]
        if self.world is None:
            return QImage()
        columns, rows = view.canvas.physical_size
        size = (max(1, width), max(1, round(width * rows / max(1, columns))))
        return self._read(size, view.region, view.mapping, view.pattern)

    def _read(self, size: tuple[int, int], region: Region, mapping: Mapping, pattern: str | None) -> QImage:
        try:
            self.context.make_current()
            pixels = np.ascontiguousarray(self.world.read(region, size, mapping, pattern))
        except Exception as error:
            log.warning("preview: %s", error)
            return QImage()
        width, height = size
        return QImage(pixels.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()

    def close(self) -> None:
        if self.world is not None:
            try:
                self.context.make_current()
                self.world.close()
                self.fence.close()
            except Exception as error:
                log.warning("closing the world: %s", error)
            self.world = None
        for view in self.views:
            view.close()
        self.context.close()
