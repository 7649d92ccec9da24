"""Headless rendering to numpy RGB frames (``myco render``, contact sheets, thumbnails, tests).

A hidden vispy canvas provides the GL context; the picture is drawn into an 8-bit
framebuffer of the output size and read back. With an X display the canvas is a hidden
PySide6 window; without one, vispy's EGL backend on Mesa's surfaceless platform (Qt's
``offscreen`` platform has no QOpenGLWidget, so it cannot give GL). See docs/shaders.md.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from installation.core.frames import WorldFrame
from installation.core.mapping import IDENTITY, Region
from installation.core.mapping import Mapping as OutputMapping
from installation.core.params import Value

RGB = NDArray[np.uint8]


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def gl_app(headless: bool = False) -> Any:
    """The vispy application: PySide6 for windows; EGL (surfaceless Mesa) for hidden work with no display."""
    from vispy import app

    if headless and not has_display():
        os.environ.setdefault("EGL_PLATFORM", "surfaceless")
        return app.use_app("egl")
    return app.use_app("pyside6")


class HiddenContext:
    """A GL context that belongs to no window, and a never-shown vispy canvas naming it to vispy.

    A PySide6 canvas that is never shown has no GL context of its own: vispy makes a context
    current when the canvas is made, and the canvas's ``set_current`` does nothing after that.
    So every hidden canvas drew into whichever context the last one made: a second Offscreen in
    one process sent the first one's GL commands into its own context (the first drew the
    second's objects, and one the second lacked failed: GL_INVALID_VALUE from glUseProgram).
    This class owns its context and :meth:`make_current` makes it current. With ``share`` it
    joins that context's share group (the app's world, beside its output windows). On the EGL
    backend (no display) vispy's canvas has a real context, which its ``set_current`` switches.
    """

    def __init__(self, share: Any = None, title: str = "Myco") -> None:
        gl_app(headless=share is None)
        from vispy import app

        self.canvas = app.Canvas(show=False, size=(16, 16), keys=None, title=title)
        self._context: Any = None
        self._surface: Any = None
        if self.canvas.app.backend_name.lower() != "egl":
            from PySide6.QtGui import QOffscreenSurface, QOpenGLContext, QSurfaceFormat

            made = QOpenGLContext.currentContext()  # vispy's, with the format it asked for
            self._context = QOpenGLContext()
            if share is not None:
                self._context.setShareContext(share)
            form = share or made
            self._context.setFormat(form.format() if form is not None else QSurfaceFormat.defaultFormat())
            if not self._context.create():
                raise RuntimeError("a GL context for hidden work could not be created")
            self._surface = QOffscreenSurface()
            self._surface.setFormat(self._context.format())
            self._surface.create()
        self.make_current()

    def make_current(self) -> None:
        if self._context is not None and not self._context.makeCurrent(self._surface):
            raise RuntimeError("the hidden GL context could not be made current")
        self.canvas.set_current()  # tells vispy where the GL commands go

    def flush(self) -> None:
        self.canvas.context.flush_commands()

    def close(self) -> None:
        self.make_current()
        self.canvas.close()
        if self._context is not None:
            self._context.doneCurrent()
            self._surface.destroy()


@dataclass(frozen=True)
class OutputShot:
    """What one output shows of the canvas: its region, its projection mapping, a test pattern."""

    region: Region = (0.0, 0.0, 1.0, 1.0)
    mapping: OutputMapping = IDENTITY
    pattern: str | None = None


class Offscreen:
    """A :class:`World` in a hidden context, producing ``(height, width, 3)`` uint8 frames of
    ``size``: the whole canvas, or (with ``output``) what one mapped output of that size shows
    of a canvas of ``canvas`` pixels (``myco render --venue``)."""

    def __init__(self, size: tuple[int, int], quality: str = "medium", shader_dir: Path | None = None,
                 canvas: tuple[int, int] | None = None, output: OutputShot | None = None,
                 **renderer_options: Any) -> None:
        from installation.render.world import World

        self.size = (int(size[0]), int(size[1]))
        self.output = output or OutputShot()
        # A closed canvas still waiting for the garbage collector makes its own GL context
        # current when it is finally destroyed, which would send our GL calls astray; collect
        # such leftovers now, before our context exists (seen in tests that close canvases).
        gc.collect()
        self.context = HiddenContext()
        self.world = World(canvas or self.size, quality, shader_dir, **renderer_options)

    @property
    def renderer(self) -> Any:
        return self.world.renderer

    def make_current(self) -> None:
        """Make this world's GL context current: before anything that may send GL commands."""
        self.context.make_current()

    def step(self, frame: WorldFrame, params: Mapping[str, Value], dt: float) -> None:
        """Advance the hyphae without drawing (warm-up, or frames between stills)."""
        self.make_current()
        self.world.advance(frame, params, dt)

    def render(self, frame: WorldFrame, params: Mapping[str, Value], dt: float) -> RGB:
        """Advance by ``dt`` and return the picture, top row first."""
        self.step(frame, params, dt)
        return self.snapshot()

    def snapshot(self) -> RGB:
        """Paint the picture from the current state and read back what the output shows."""
        self.make_current()
        self.world.compose()
        output = self.output
        return self.world.read(output.region, self.size, output.mapping, output.pattern)

    def close(self) -> None:
        self.make_current()
        self.world.close()
        self.context.close()
        gc.collect()  # destroy the canvas now, not in the middle of someone else's frame
