"""The GPU output: a vispy canvas (PySide6 backend) running the renderer for one window.

Each output window gets its own canvas, GL context and :class:`Renderer`, all fed the same
frames and parameters, so the regions of a wide canvas across several projectors line up.
Each view still grows its own hyphae; docs/pitfalls.md ("One world, many views") says how
the world is to be computed once and shared instead. The renderer is built on the first draw,
when the widget's GL context exists. A draw that fails is reported once and the last good
picture stays; the frame clock only counts frames that completed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget

from installation.core.frames import WorldFrame
from installation.core.params import ParamBank, Value
from installation.ui.output_view import Scene

log = logging.getLogger(__name__)

CANVAS_HEIGHT = 1080  # the wide canvas is this tall and 16:9 wide per output


class RendererOutput:
    fades_itself = True  # the renderer's post pass applies render.blackout

    def __init__(self, region: tuple[float, float, float, float], frame_done: Callable[[float], None],
                 bank: ParamBank, outputs: int = 1, quality: str = "medium", shader_dir: Path | None = None,
                 follow_quality: bool = False) -> None:
        from installation.render.offscreen import gl_app

        gl_app()
        from vispy import app

        self.region = region
        self.bank = bank  # shader headers saved while running declare their inputs here
        self.quality = quality
        self.follow_quality = follow_quality  # rebuild when render.quality changes (not pinned by --quality)
        self.shader_dir = shader_dir
        self._frame_done = frame_done
        self._canvas_size = (round(CANVAS_HEIGHT * 16 / 9) * outputs, CANVAS_HEIGHT)
        self.canvas = app.Canvas(keys=None, show=False, size=(640, 360), vsync=True, title="Myco output")
        self.widget: QWidget = self.canvas.native
        self.renderer: Any = None
        self.failed = ""
        self.problems: list[str] = []  # shader problems (file:line: key: reason) of the last reload
        self._pending: tuple[WorldFrame, Mapping[str, Value], Scene, float] | None = None
        self._last_update = 0.0
        self._capture_wanted = False
        self._captured = QImage()
        self.canvas.events.draw.connect(self._on_draw)

    def show_frame(self, frame: WorldFrame, params: Mapping[str, Value], scene: Scene) -> None:
        if self._pending is not None:  # not drawn yet: keep its events, or their layers never start
            frame = replace(frame, events=self._pending[0].events + frame.events)
        self._pending = (frame, params, scene, time.monotonic())
        self.canvas.update()

    def _build(self) -> None:
        from installation.render.renderer import Renderer

        self.renderer = Renderer(self._canvas_size, self.quality, self.shader_dir)
        self.renderer.follow_headers(self.bank)

    def _on_draw(self, event: object) -> None:
        from vispy import gloo

        started = time.perf_counter()
        try:
            pending, self._pending = self._pending, None
            if pending is not None and self.follow_quality:
                self._follow_quality(str(pending[1].get("render.quality", self.quality)))
            if self.renderer is None:
                self._build()
            if pending is not None:
                frame, params, scene, stamp = pending
                dt = stamp - self._last_update if self._last_update else 1 / 60
                self._last_update = stamp
                self.problems = [str(problem) for problem in self.renderer.follow(
                    frame, params, dt, (scene.look_from, scene.look_to, scene.mix), scene.seed)]
            width, height = self.canvas.physical_size
            gloo.set_viewport(0, 0, width, height)
            self.renderer.draw((width, height), self.region)
            if self._capture_wanted:
                self._capture_wanted = False
                self._capture(width, height)
        except Exception as error:  # vispy would only print it: report once, keep the last picture
            message = f"output draw failed: {error}"
            if message != self.failed:
                self.failed = message
                log.error("%s", message)
            return
        self.failed = ""
        self._frame_done(time.perf_counter() - started)

    def _follow_quality(self, wanted: str) -> None:
        """A new quality needs a new renderer (its agent and trail textures are sized by it)."""
        if wanted == self.quality:
            return
        log.info("output quality %s -> %s: the hyphae weave again", self.quality, wanted)
        self.quality = wanted
        if self.renderer is not None:
            self.renderer.close()
            self.renderer = None

    def _capture(self, width: int, height: int) -> None:
        from vispy import gloo

        pixels = np.ascontiguousarray(gloo.read_pixels((0, 0, width, height), alpha=False))
        self._captured = QImage(pixels.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()

    def grab(self) -> QImage:
        """The picture captured at the end of a recent draw, and ask for a new one at the next.

        Not ``grabFramebuffer()``: that renders the whole picture again just to read it back.
        """
        self._capture_wanted = True
        return self._captured

    def close(self) -> None:
        if self.renderer is not None:
            try:
                self.canvas.set_current()
                self.renderer.close()
            except Exception as error:
                log.warning("closing the renderer: %s", error)
            self.renderer = None
        self.canvas.close()
