"""What the output windows show: views of the GPU world, or the network map if GL is not available.

:func:`make_pictures` prefers the GPU world (one simulation for every output, see
:mod:`installation.ui.gl_output`). If it cannot start (no renderer in this build, no usable
OpenGL), every output shows the live network map instead of going black, and the reason goes
to the operator's error list.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from collections.abc import Mapping as MappingType
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from PySide6.QtGui import QImage, QPaintEvent
from PySide6.QtWidgets import QWidget

from installation.core.effects import Slot
from installation.core.frames import WorldFrame
from installation.core.mapping import Mapping, Region
from installation.core.params import ParamBank, Value
from installation.core.seeds import Seed
from installation.render.sound import Audio
from installation.ui.monitor import NetworkMap

log = logging.getLogger(__name__)

FrameDone = Callable[[float], None]


@dataclass(frozen=True)
class Scene:
    """What a picture is made of besides the frame: the looks being crossfaded (the engine's
    ``look_mix()``), the seed the world grows from (its mural mask), and the ISF effect chain
    (the engine's ``effects.slots``) with the sound its audio inputs hear."""

    look_from: str
    look_to: str
    mix: float
    seed: Seed | None = None
    effects: tuple[Slot, ...] = ()
    sound: Audio | None = None


class OutputView(Protocol):
    """What one output window holds."""

    widget: QWidget
    fades_itself: bool

    def grab(self) -> QImage:
        """What the window shows now (a screenshot)."""

    def close(self) -> None: ...


class Pictures(Protocol):
    """Where every output's picture comes from, fed once per frame by the app's tick."""

    problems: list[str]  # shader problems of the last reload, for the operator

    @property
    def views(self) -> Sequence[OutputView]:
        """One per output window, in order."""

    def show_frame(self, frame: WorldFrame, params: MappingType[str, Value], scene: Scene,
                   dt: float | None = None) -> None:
        """Hand over the newest frame, ``dt`` seconds after the last (None: by the wall clock);
        the views repaint at their own pace."""

    def preview(self, width: int) -> QImage:
        """The latest picture about ``width`` wide (for the control window and ``/preview.png``)."""

    def set_mapping(self, index: int, region: Region, mapping: Mapping) -> None:
        """Output ``index`` shows ``region`` of the canvas through ``mapping`` from its next paint."""

    def set_pattern(self, index: int, pattern: str | None) -> None:
        """Output ``index`` shows a test pattern (None: the picture)."""

    def output_preview(self, index: int, width: int) -> QImage:
        """What output ``index`` shows now, ``width`` wide (``/preview.png?output=``, the editor)."""

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

    def grab(self) -> QImage:
        self.map.counting = False
        try:
            return self.map.grab().toImage()
        finally:
            self.map.counting = True

    def close(self) -> None:
        self.map.close()


class MapPictures:
    """Every output shows the network map (each window paints it itself)."""

    def __init__(self, frame_dones: Sequence[FrameDone]) -> None:
        self.views = [MapOutput(frame_done) for frame_done in frame_dones]
        self.problems: list[str] = []

    def show_frame(self, frame: WorldFrame, params: MappingType[str, Value], scene: Scene,
                   dt: float | None = None) -> None:
        for view in self.views:
            view.map.show_frame(frame)

    def preview(self, width: int) -> QImage:
        return self.views[0].grab().scaledToWidth(width) if self.views else QImage()

    def set_mapping(self, index: int, region: Region, mapping: Mapping) -> None:
        """The map is not mapped: it is a failsafe that needs no GL, shown whole on every output."""

    def set_pattern(self, index: int, pattern: str | None) -> None:
        """No test patterns without GL."""

    def output_preview(self, index: int, width: int) -> QImage:
        return self.views[index].grab().scaledToWidth(width)

    def close(self) -> None:
        for view in self.views:
            view.close()


def make_pictures(canvas_size: tuple[int, int], regions: Sequence[Region], frame_dones: Sequence[FrameDone],
                  world_done: FrameDone, report: Callable[[str], None], bank: ParamBank, quality: str = "medium",
                  shader_dir: Path | None = None, follow_quality: bool = False, hot_reload: bool = True,
                  seed: int = 0) -> Pictures:
    """One view per region (with its own frame clock) of one world painted at ``canvas_size``
    (its agents placed from ``seed``; shader files saved while running reloaded if ``hot_reload``)."""
    try:
        from installation.ui.gl_output import GlWorld
    except ImportError as error:
        report(f"GPU renderer not available ({error}); the outputs show the network map")
        return MapPictures(frame_dones)
    try:
        world = GlWorld(canvas_size, bank, world_done, quality, shader_dir, follow_quality, hot_reload, seed)
        for region, frame_done in zip(regions, frame_dones, strict=True):
            world.add_view(region, frame_done)
        return world
    except Exception as error:
        report(f"GPU renderer failed to start ({error}); the outputs show the network map")
        return MapPictures(frame_dones)
