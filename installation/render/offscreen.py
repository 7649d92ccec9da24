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


def hidden_canvas() -> Any:
    """A small hidden canvas whose GL context is current, for work that never shows a window."""
    gl_app(headless=True)
    from vispy import app

    canvas = app.Canvas(show=False, size=(16, 16), keys=None)
    canvas.set_current()
    return canvas


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
        self.canvas = hidden_canvas()
        self.world = World(canvas or self.size, quality, shader_dir, **renderer_options)

    @property
    def renderer(self) -> Any:
        return self.world.renderer

    def step(self, frame: WorldFrame, params: Mapping[str, Value], dt: float) -> None:
        """Advance the hyphae without drawing (warm-up, or frames between stills)."""
        self.canvas.set_current()
        self.world.advance(frame, params, dt)

    def render(self, frame: WorldFrame, params: Mapping[str, Value], dt: float) -> RGB:
        """Advance by ``dt`` and return the picture, top row first."""
        self.step(frame, params, dt)
        return self.snapshot()

    def snapshot(self) -> RGB:
        """Paint the picture from the current state and read back what the output shows."""
        self.canvas.set_current()
        self.world.compose()
        output = self.output
        return self.world.read(output.region, self.size, output.mapping, output.pattern)

    def close(self) -> None:
        self.canvas.set_current()
        self.world.close()
        self.canvas.close()
        gc.collect()  # destroy the canvas now, not in the middle of someone else's frame
