"""Helpers for the app tests: build the real app in-process and measure what it shows."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from PySide6.QtGui import QImage

from installation.app.compose import build_runtime
from installation.app.gui import DesktopApp
from installation.app.options import RunOptions


def pump(seconds: float, until: Callable[[], bool] | None = None) -> bool:
    """Run Qt's event loop for up to ``seconds``; stop early once ``until()`` is true."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    assert app is not None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents()
        if until is not None and until():
            return True
        time.sleep(0.002)
    return until() if until is not None else True


def start_app(**overrides: object) -> DesktopApp:
    options = RunOptions(**{"audio": False, "status": None, "quality": "low", "thumbnails": False,
                             **overrides})  # type: ignore[arg-type]
    runtime = build_runtime(options).start()
    desktop = DesktopApp(runtime)
    desktop.show()
    return desktop


def stop_app(desktop: DesktopApp) -> None:
    desktop.close()
    desktop.runtime.stop()
    pump(0.2)


def pixels(desktop: DesktopApp) -> NDArray[np.float64]:
    """The first output's picture as (height, width, 3) floats in 0..255 (RGB), freshly drawn."""
    return grab_all(desktop)[0]


def rgb_of(image: QImage) -> NDArray[np.float64]:
    assert not image.isNull()
    width, height = image.width(), image.height()
    raw = np.frombuffer(image.constBits(), np.uint8).reshape(height, image.bytesPerLine())
    return raw[:, : width * 3].reshape(height, width, 3).astype(np.float64)


def frames_drawn(desktop: DesktopApp) -> int:
    return desktop.runtime.clock.frames


def grab_all(desktop: DesktopApp) -> list[NDArray[np.float64]]:
    """Every output window's picture, painted back to back from the same world frame."""
    drawn = desktop.runtime.clock.frames
    assert pump(20, lambda: desktop.runtime.clock.frames >= drawn + 2), "the world is not stepping"
    images = [view.grab().convertToFormat(QImage.Format.Format_RGB888) for view in desktop.views]
    return [rgb_of(image) for image in images]


def seam_break(left: NDArray[np.float64], right: NDArray[np.float64]) -> float:
    """How much the picture jumps where ``left``'s right edge meets ``right``'s left edge,
    against how much it changes between neighbouring columns inside each (1: no break)."""
    across = np.abs(left[:, -1] - right[:, 0]).mean()
    inside = (np.abs(left[:, -1] - left[:, -2]).mean() + np.abs(right[:, 1] - right[:, 0]).mean()) / 2
    return float(across / max(inside, 1e-6))
