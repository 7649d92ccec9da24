"""Browsers with thumbnails: the presets (recall with the crossfade time), and the ISF files
(:mod:`installation.ui.effects_panel`).

Thumbnails are rendered offscreen by a separate process (:mod:`installation.app.thumbnails`,
started by module name), so the output never stalls while they are made, and cached as PNG in
the user's state folder, keyed by the source file's modification time. A timer picks up each
file as it appears.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QProcess, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from installation.core.errors import LoadError
from installation.core.presets import PresetLibrary, thumbnail_file
from installation.ui import theme

log = logging.getLogger(__name__)

THUMB = QSize(192, 108)
POLL_MS = 500


def placeholder(title: str) -> QPixmap:
    pixmap = QPixmap(THUMB)
    pixmap.fill(QColor(theme.RAISED))
    painter = QPainter(pixmap)
    painter.setPen(QColor(theme.MUTED))
    painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, title)
    painter.end()
    return pixmap


@dataclass(frozen=True)
class Entry:
    """One item of a thumbnail grid: its key, the title under its picture, the words a search
    matches, where its thumbnail is cached (None: it cannot have one) and whether it can be rendered."""

    key: str
    title: str
    words: str
    thumbnail: Path | None
    renderable: bool = True


class ThumbnailGrid(QWidget):
    """A searchable grid of items whose thumbnails a separate process renders into ``cache``
    (``python -m installation.app.thumbnails``); a timer picks each file up as it appears.
    Subclasses say what the items are (:meth:`entries`) and how the process is asked (:meth:`render_args`)."""

    chosen = Signal(str)  # an item double-clicked, or the button pressed

    def __init__(self, cache: Path, render_thumbnails: bool, placeholder_text: str, button: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cache = cache
        self._render = render_thumbnails
        self._process: QProcess | None = None
        self.search = QLineEdit()
        self.search.setPlaceholderText(placeholder_text)
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.apply_search)
        self.list = QListWidget()
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setIconSize(THUMB)
        self.list.setGridSize(QSize(THUMB.width() + 16, THUMB.height() + 40))
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setMovement(QListWidget.Movement.Static)
        self.list.setWordWrap(True)
        self.list.itemDoubleClicked.connect(lambda item: self.chosen.emit(item.data(Qt.ItemDataRole.UserRole)))
        self.choose_button = QPushButton(button)
        self.choose_button.clicked.connect(self._choose_selected)
        self.bar = QHBoxLayout()
        self.bar.addWidget(self.choose_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addLayout(self.bar)
        self._entries: dict[str, Entry] = {}
        self._pending: list[str] = []
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._collect)

    def entries(self) -> list[Entry]:
        raise NotImplementedError

    def render_args(self, keys: list[str]) -> list[str]:
        """The thumbnail process's arguments after its module name, for the items ``keys``."""
        raise NotImplementedError

    def reload(self) -> None:
        """List every item; queue the thumbnails that are missing or stale."""
        self.list.clear()
        self._pending.clear()
        self._entries = {entry.key: entry for entry in self.entries()}
        for entry in self._entries.values():
            item = QListWidgetItem(entry.title)
            item.setData(Qt.ItemDataRole.UserRole, entry.key)
            item.setToolTip(entry.key)
            cached = entry.thumbnail if entry.thumbnail is not None and entry.thumbnail.is_file() else None
            item.setIcon(QIcon(QPixmap(str(cached)) if cached else placeholder(entry.title)))
            if cached is None and entry.renderable and entry.thumbnail is not None:
                self._pending.append(entry.key)
            self.list.addItem(item)
        self.apply_search(self.search.text())
        if self._pending and self._render:
            self._start_rendering()

    def _start_rendering(self) -> None:
        self.stop()
        self.cache.mkdir(parents=True, exist_ok=True)
        process = QProcess(self)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.ForwardedErrorChannel)
        process.start(sys.executable, ["-m", "installation.app.thumbnails", *self.render_args(self._pending)])
        self._process = process
        self._timer.start()

    def _collect(self) -> None:
        """Show every thumbnail that has appeared; stop polling when the renderer is done."""
        for key in list(self._pending):
            path = self._entries[key].thumbnail
            if path is None or not path.is_file():
                continue
            self._pending.remove(key)
            for row in range(self.list.count()):
                item = self.list.item(row)
                if item.data(Qt.ItemDataRole.UserRole) == key:
                    item.setIcon(QIcon(QPixmap(str(path))))
        process = self._process
        if not self._pending or process is None or process.state() == QProcess.ProcessState.NotRunning:
            self._timer.stop()

    def apply_search(self, text: str) -> None:
        words = text.lower().split()
        for row in range(self.list.count()):
            item = self.list.item(row)
            entry = self._entries.get(item.data(Qt.ItemDataRole.UserRole))
            haystack = entry.words if entry else ""
            item.setHidden(not all(word in haystack for word in words))

    def _choose_selected(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.chosen.emit(item.data(Qt.ItemDataRole.UserRole))

    def stop(self) -> None:
        """Stop polling and end the thumbnail process (the app leaves no process behind)."""
        self._timer.stop()
        process, self._process = self._process, None
        if process is not None and process.state() != QProcess.ProcessState.NotRunning:
            process.kill()
            process.waitForFinished(3000)


class PresetBrowser(ThumbnailGrid):
    """The presets: recall one with the transport's crossfade time."""

    def __init__(self, library: PresetLibrary, cache: Path, render_thumbnails: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(cache, render_thumbnails, "Search presets (name, title, tags)…", "Recall selected  [Enter]",
                         parent)
        self.library = library
        self.recall = self.chosen
        self.recall_button = self.choose_button
        self.crossfade_note = QLabel()
        self.crossfade_note.setObjectName("muted")
        self.bar.addWidget(self.crossfade_note)
        self.bar.addStretch(1)
        self.reload()

    def entries(self) -> list[Entry]:
        found = []
        for name in self.library.names():
            try:
                preset = self.library.load(name)
                title, tags, loads = preset.title or name, " ".join(preset.tags), True
            except Exception as error:  # a broken preset is listed with its error, never hidden
                title, tags, loads = f"{name} (error)", "", False
                log.warning("preset %s: %s", name, error)
            try:
                thumbnail: Path | None = thumbnail_file(self.cache, self.library, name)
            except (OSError, LoadError, ValueError):  # gone, or not a safe name
                thumbnail = None
            found.append(Entry(name, title, f"{name} {title} {tags}".lower(), thumbnail, loads))
        return found

    def render_args(self, keys: list[str]) -> list[str]:
        return [str(self.cache), *keys]

    def show_crossfade(self, seconds: float) -> None:
        self.crossfade_note.setText(f"crossfade {seconds:.1f} s (set it in the transport)")
