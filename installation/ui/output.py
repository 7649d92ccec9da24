"""Output windows: borderless, cursorless, full screen on the chosen screen.

Each window embeds one output canvas (its own GL context and renderer for now, see
docs/pitfalls.md: "One world, many views") showing its region of the wide canvas.
:class:`OutputManager` follows screens being connected and disconnected (Qt's
screenAdded/screenRemoved) and re-places every window with the pure rule in
:mod:`installation.ui.placement`. Blackout is the ``render.blackout`` parameter (the
renderer fades it); the failsafe map output shows it as a black veil.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent, QColor, QGuiApplication, QPainter, QPaintEvent, QScreen
from PySide6.QtWidgets import QStackedLayout, QWidget

from installation.ui.placement import OutputRequest, assign, window_size

log = logging.getLogger(__name__)


class Veil(QWidget):
    """A black layer over the output whose opacity fades between 0 (clear) and 1 (blackout)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.level = 0.0
        self.hide()

    def set_level(self, level: float) -> None:
        self.level = min(1.0, max(0.0, level))
        self.setVisible(self.level > 0.0)
        self.raise_()
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(0, 0, 0, round(255 * self.level)))


class OutputWindow(QWidget):
    """One projector's window around an output canvas widget."""

    def __init__(self, view: Any, request: OutputRequest, index: int) -> None:
        super().__init__(None, Qt.WindowType.Window | Qt.WindowType.FramelessWindowHint)
        self.request = request
        self.index = index
        self.setWindowTitle(f"Myco output {index + 1}")
        self.setCursor(Qt.CursorShape.BlankCursor)
        self.setStyleSheet("background: black;")
        self.view = view
        content: QWidget = view.widget
        layout = QStackedLayout(self)
        layout.setStackingMode(QStackedLayout.StackingMode.StackAll)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(content)
        self.veil = Veil(self)
        self.screen_name = ""
        self.full_screen = False
        self.closable = False

    def closeEvent(self, event: QCloseEvent) -> None:
        """An output only closes with the app: a stray Alt+F4 on a projector must not blank it."""
        if self.closable:
            event.accept()
        else:
            event.ignore()

    def resizeEvent(self, event: object) -> None:
        self.veil.setGeometry(self.rect())

    def place(self, screen: QScreen, full_screen: bool) -> None:
        """Set the handle's screen, then the geometry, then show full screen (docs/pitfalls.md)."""
        self.winId()
        handle = self.windowHandle()
        if handle is not None:
            handle.setScreen(screen)
        geometry = screen.geometry()
        self.screen_name = screen.name()
        self.full_screen = full_screen
        if full_screen:
            self.setGeometry(geometry)
            self.showFullScreen()
        else:
            width, height = window_size((geometry.width(), geometry.height()), False)
            self.showNormal()
            self.setGeometry(geometry.x() + geometry.width() - width - 20, geometry.y() + 40, width, height)
        log.info("output %d on screen %s (%s)", self.index + 1, self.screen_name,
                 "full screen" if full_screen else "windowed")

    def toggle_full_screen(self) -> None:
        screen = self.screen()
        if screen is not None:
            self.place(screen, not self.full_screen)


class OutputManager:
    """Keeps every output window on a screen while screens come and go."""

    def __init__(self, windows: list[OutputWindow], control_screen: Callable[[], str | None]) -> None:
        self.windows = windows
        self._control_screen = control_screen
        self.moves = 0
        app = QGuiApplication.instance()
        assert isinstance(app, QGuiApplication)
        app.screenAdded.connect(self._screens_changed)
        app.screenRemoved.connect(self._screens_changed)

    def place_all(self) -> None:
        screens = {screen.name(): screen for screen in QGuiApplication.screens()}
        plan = assign(list(screens), self._control_screen(), [w.request for w in self.windows])
        for window, (name, full_screen) in zip(self.windows, plan, strict=True):
            if window.screen_name != name or window.full_screen != full_screen:
                window.place(screens[name], full_screen)
                self.moves += 1

    def _screens_changed(self, screen: QScreen) -> None:
        # Qt has not finished updating its screen list inside the signal; place on the next turn.
        QTimer.singleShot(0, self.place_all)

    def set_veil(self, level: float) -> None:
        """Black veil level for outputs whose view does not fade itself (the failsafe map)."""
        for window in self.windows:
            if not getattr(window.view, "fades_itself", False) and window.veil.level != level:
                window.veil.set_level(level)

    def close(self) -> None:
        for window in self.windows:
            window.closable = True
            window.close()
