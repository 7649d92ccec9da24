"""An output canvas: one vispy canvas (PySide6 backend) that owns one Renderer.

Embed it in Qt through ``canvas.native``. On its timer it asks ``source`` for the latest
frame and parameters, polls shader hot reload, advances the hyphae and redraws. The
renderer is built on the first draw, when the widget's GL context exists (QOpenGLWidget
creates it only once shown). ``frames_drawn`` and ``last_frame_s`` count only frames
that completed, so a watchdog can trust them (vispy only prints errors raised in a draw).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from vispy import app, gloo

from installation.core.errors import Problem
from installation.core.frames import WorldFrame
from installation.core.params import Value
from installation.render.offscreen import gl_app
from installation.render.renderer import Renderer

log = logging.getLogger(__name__)

FrameSource = Callable[[], tuple[WorldFrame, Mapping[str, Value]]]


class OutputCanvas(app.Canvas):  # type: ignore[misc]
    def __init__(self, source: FrameSource, size: tuple[int, int] = (1280, 720), quality: str = "medium",
                 shader_dir: Path | None = None, fps: float = 60.0, look: str = "festival",
                 region: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0), **canvas_options: Any) -> None:
        gl_app()
        super().__init__(size=size, keys=None, app="pyside6", **canvas_options)
        self.source = source
        self.region = region
        self.renderer: Renderer | None = None
        self.frames_drawn = 0
        self.last_frame_s = 0.0
        self.last_error = ""
        self._options = (quality, shader_dir)
        self._look = look
        self._last_tick = 0.0
        self._timer = app.Timer(1.0 / fps, connect=self._tick, start=True)

    @property
    def errors(self) -> list[Problem]:
        return self.renderer.errors if self.renderer else []

    def set_look(self, name: str) -> None:
        self._look = name
        if self.renderer is not None:
            self.renderer.set_look(name)

    def _tick(self, event: object) -> None:
        self.update()

    def on_draw(self, event: object) -> None:
        started = time.perf_counter()
        try:
            if self.renderer is None:
                self.renderer = Renderer(self.physical_size, *self._options)
                self.renderer.set_look(self._look)
            frame, params = self.source()
            now = time.monotonic()
            dt = now - self._last_tick if self._last_tick else 1 / 60
            self._last_tick = now
            self.renderer.poll_reload()
            self.renderer.update(frame, params, dt)
            gloo.set_viewport(0, 0, *self.physical_size)
            self.renderer.draw(self.physical_size, self.region)
        except Exception as error:  # report once, keep the last good picture
            if str(error) != self.last_error:
                self.last_error = str(error)
                log.error("output draw failed: %s", error)
            return
        self.last_error = ""
        self.frames_drawn += 1
        self.last_frame_s = time.perf_counter() - started

    def close(self) -> None:
        self._timer.stop()
        if self.renderer is not None:
            self.renderer.close()
            self.renderer = None
        super().close()
