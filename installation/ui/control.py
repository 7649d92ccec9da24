"""The control window: preview, transport, health, parameters, presets, nodes, shortcuts.

It shows the runtime and posts what the operator does; it owns no state of the show. The
app (:mod:`installation.app.gui`) builds it and connects its signals.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QImage, QKeySequence, QPixmap
from PySide6.QtWidgets import QLabel, QMainWindow, QSizePolicy, QSplitter, QTabWidget, QVBoxLayout, QWidget

from installation.ui.browser import PresetBrowser
from installation.ui.drafts import DraftBanner
from installation.ui.health import HealthPanel
from installation.ui.monitor import NodeMonitor
from installation.ui.param_panel import ParamPanel
from installation.ui.transport import TransportPanel

# (action name, menu, shortcut, label): every shortcut is listed in the UI from this table.
SHORTCUTS = (
    ("blackout", "Show", "B", "Blackout / fade back"),
    ("next_act", "Show", "PgDown", "Next act"),
    ("previous_act", "Show", "PgUp", "Previous act"),
    ("pause", "Show", "P", "Pause / go on with the show timeline"),
    ("fullscreen", "Show", "F11", "Output full screen / windowed"),
    ("mapping", "Show", "Ctrl+M", "Projection mapping editor"),
    ("modulation", "Show", "Ctrl+Shift+M", "Modulation matrix"),
    ("panic", "Show", "Esc", "Panic: reset to the preset"),
    ("open_now", "Show", "Ctrl+O", "Open now (until the next scheduled change)"),
    ("close_now", "Show", "Ctrl+Shift+O", "Close now (until the next scheduled change)"),
    ("undo", "Edit", "Ctrl+Z", "Undo"),
    ("redo", "Edit", "Ctrl+Shift+Z", "Redo"),
    ("save", "Preset", "Ctrl+S", "Save preset"),
    ("save_as", "Preset", "Ctrl+Shift+S", "Save as new user preset…"),
    ("quit", "Preset", "Ctrl+Q", "Quit"),
)


class Preview(QLabel):
    """A live, scaled copy of the output, refreshed a few times a second."""

    def __init__(self) -> None:
        super().__init__("output preview")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(320, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setStyleSheet("background: black; border: 1px solid #25292d;")

    def show_image(self, image: QImage) -> None:
        if image.isNull():
            return
        pixmap = QPixmap.fromImage(image).scaled(self.width() - 2, self.height() - 2,
                                                  Qt.AspectRatioMode.KeepAspectRatio,
                                                  Qt.TransformationMode.SmoothTransformation)
        self.setPixmap(pixmap)


class ControlWindow(QMainWindow):
    action_triggered = Signal(str)
    closing = Signal()

    def __init__(self, params: ParamPanel, transport: TransportPanel, browser: PresetBrowser,
                 monitor: NodeMonitor, health: HealthPanel, decks: QWidget | None = None) -> None:
        super().__init__()
        self.setWindowTitle("Myco")
        self.params, self.transport, self.browser = params, transport, browser
        self.monitor, self.health = monitor, health
        self.preview = Preview()
        self.banner = QLabel()
        self.banner.setObjectName("error")
        self.banner.setWordWrap(True)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.hide()
        self.draft_banner = DraftBanner()  # unsaved edits kept from before: Restore / Discard
        self.confirm_close: Callable[[], bool] | None = None  # False keeps the window open (unsaved edits)
        self.preset_label = QLabel()
        self.preset_label.setObjectName("title")
        keys = "   ".join(f"<b>{QKeySequence(k).toString(QKeySequence.SequenceFormat.NativeText)}</b> {label}"
                           for _, _, k, label in SHORTCUTS[:5])
        self.shortcut_strip = QLabel(keys)
        self.shortcut_strip.setObjectName("muted")
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(self.preview, 4)
        left_layout.addWidget(transport)
        if decks is not None:  # the A/B crossfader's strip (ui/decks.py)
            left_layout.addWidget(decks)
        left_layout.addWidget(health, 3)
        tabs = QTabWidget()
        tabs.addTab(params, "Parameters")
        tabs.addTab(browser, "Presets")
        tabs.addTab(monitor, "Nodes")
        self.tabs = tabs
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(self.preset_label)
        right_layout.addWidget(self.banner)
        right_layout.addWidget(self.draft_banner)
        right_layout.addWidget(tabs, 1)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([560, 720])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 4)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.shortcut_strip)
        self.setCentralWidget(central)
        self.actions_by_name: dict[str, QAction] = {}
        menus: dict[str, object] = {}
        for name, menu_name, key, label in SHORTCUTS:
            menu = menus.get(menu_name) or self.menuBar().addMenu(menu_name)
            menus[menu_name] = menu
            action = QAction(label, self)
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
            action.triggered.connect(lambda _checked=False, n=name: self.action_triggered.emit(n))
            menu.addAction(action)  # type: ignore[attr-defined]
            self.actions_by_name[name] = action
        self.resize(1280, 800)

    def show_preset(self, title: str, name: str, unsaved: bool, can_undo: bool, can_redo: bool) -> None:
        marker = " ●" if unsaved else ""
        self.preset_label.setText(f"Preset: {title} <span style='color:#8a9299'>({name})</span>{marker}")
        self.setWindowTitle(f"Myco: {name}{' *' if unsaved else ''}")
        self.actions_by_name["undo"].setEnabled(can_undo)
        self.actions_by_name["redo"].setEnabled(can_redo)

    def show_problem(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.setVisible(bool(text))

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.confirm_close is not None and not self.confirm_close():
            event.ignore()
            return
        self.closing.emit()
        event.accept()
