"""Helpers for the app tests: build the real app in-process and measure what it shows."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

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
    from PySide6.QtGui import QImage

    view = desktop.views[0]
    view.grab()  # ask for a capture at the end of the next draw
    drawn = desktop.runtime.clock.frames
    assert pump(20, lambda: desktop.runtime.clock.frames >= drawn + 2), "the output is not drawing"
    image = view.grab().convertToFormat(QImage.Format.Format_RGB888)
    assert not image.isNull()
    width, height = image.width(), image.height()
    raw = np.frombuffer(image.constBits(), np.uint8).reshape(height, image.bytesPerLine())
    return raw[:, : width * 3].reshape(height, width, 3).astype(np.float64)


def frames_drawn(desktop: DesktopApp) -> int:
    return desktop.runtime.clock.frames
