"""What an output window shows: the renderer's canvas, or the network map if GL is not available.

:func:`make_output_view` prefers the GPU renderer. If it cannot start (no renderer in this
build, no usable OpenGL), the output shows the live network map instead of going black,
and the reason goes to the operator's error list.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from PySide6.QtGui import QImage, QPaintEvent
from PySide6.QtWidgets import QWidget

from installation.core.frames import WorldFrame
from installation.core.params import ParamBank, Value
from installation.core.seeds import Seed
from installation.ui.monitor import NetworkMap

log = logging.getLogger(__name__)

FrameDone = Callable[[float], None]
Region = tuple[float, float, float, float]


@dataclass(frozen=True)
class Scene:
    """What a picture is made of besides the frame: the looks being crossfaded (the engine's
    ``look_mix()``) and the seed the world grows from (its mural mask)."""

    look_from: str
    look_to: str
    mix: float
    seed: Seed | None = None


class OutputView(Protocol):
    widget: QWidget
    fades_itself: bool

    def show_frame(self, frame: WorldFrame, params: Mapping[str, Value], scene: Scene) -> None:
        """Hand over the newest frame; the view redraws at its own pace."""

    def grab(self) -> QImage:
        """A recently drawn picture (for the preview and screenshots); may be empty at first."""

    def close(self) -> None: ...


class _TimedMap(NetworkMap):
    def __init__(self, frame_done: FrameDone) -> None:
        super().__init__()
        self._frame_done = frame_done
        self.counting = True  # a grab for the preview is not an output frame

    def paintEvent(self, event: QPaintEvent) -> None:
        started = time.perf_counter()
        super().paintEvent(event)
        if self.counting:
            self._frame_done(time.perf_counter() - started)


class MapOutput:
    """The failsafe output: the network map, drawn with QPainter (no OpenGL needed)."""

    fades_itself = False

    def __init__(self, frame_done: FrameDone) -> None:
        self.map = _TimedMap(frame_done)
        self.widget: QWidget = self.map

    def show_frame(self, frame: WorldFrame, params: Mapping[str, Value], scene: Scene) -> None:
        self.map.show_frame(frame)

    def grab(self) -> QImage:
        self.map.counting = False
        try:
            return self.map.grab().toImage()
        finally:
            self.map.counting = True

    def close(self) -> None:
        self.map.close()


def make_output_view(region: Region, frame_done: FrameDone, report: Callable[[str], None], bank: ParamBank,
                     outputs: int = 1, quality: str = "medium", shader_dir: Path | None = None,
                     follow_quality: bool = False) -> OutputView:
    try:
        from installation.ui.gl_output import RendererOutput
    except ImportError as error:
        report(f"GPU renderer not available ({error}); the output shows the network map")
        return MapOutput(frame_done)
    try:
        return RendererOutput(region, frame_done, bank, outputs, quality, shader_dir, follow_quality)
    except Exception as error:
        report(f"GPU renderer failed to start ({error}); the output shows the network map")
        return MapOutput(frame_done)
