"""The preset browser: thumbnails, search, recall with the crossfade time.

Thumbnails are rendered offscreen from each preset by a separate process
(:mod:`installation.app.thumbnails`, started by module name), so the output never stalls while they are made, and
cached as PNG in the user's state folder, keyed by the preset file's modification time.
A timer picks up each file as it appears.
"""

from __future__ import annotations

import logging
import sys
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


class PresetBrowser(QWidget):
    recall = Signal(str)

    def __init__(self, library: PresetLibrary, cache: Path, render_thumbnails: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.cache = cache
        self._render = render_thumbnails
        self._process: QProcess | None = None
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search presets (name, title, tags)…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.apply_search)
        self.list = QListWidget()
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setIconSize(THUMB)
        self.list.setGridSize(QSize(THUMB.width() + 16, THUMB.height() + 40))
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setMovement(QListWidget.Movement.Static)
        self.list.setWordWrap(True)
        self.list.itemDoubleClicked.connect(lambda item: self.recall.emit(item.data(Qt.ItemDataRole.UserRole)))
        self.recall_button = QPushButton("Recall selected  [Enter]")
        self.recall_button.clicked.connect(self._recall_selected)
        self.crossfade_note = QLabel()
        self.crossfade_note.setObjectName("muted")
        bar = QHBoxLayout()
        bar.addWidget(self.recall_button)
        bar.addWidget(self.crossfade_note)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addLayout(bar)
        self._texts: dict[str, str] = {}
        self._pending: list[str] = []
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._collect)
        self.reload()

    def reload(self) -> None:
        """List every preset the library finds; queue thumbnails that are missing or stale."""
        self.list.clear()
        self._texts.clear()
        self._pending.clear()
        for name in self.library.names():
            loads = True
            try:
                preset = self.library.load(name)
                title, tags = preset.title or name, " ".join(preset.tags)
            except Exception as error:  # a broken preset is listed with its error, never hidden
                title, tags, loads = f"{name} (error)", "", False
                log.warning("preset %s: %s", name, error)
            item = QListWidgetItem(title)
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setToolTip(name)
            cached = self._cached(name)
            item.setIcon(QIcon(QPixmap(str(cached)) if cached else placeholder(title)))
            if cached is None and loads:
                self._pending.append(name)
            self.list.addItem(item)
            self._texts[name] = f"{name} {title} {tags}".lower()
        self.apply_search(self.search.text())
        if self._pending and self._render:
            self._start_rendering()

    def _cached(self, name: str) -> Path | None:
        try:
            path = thumbnail_file(self.cache, self.library, name)
        except Exception:
            return None
        return path if path.is_file() else None

    def _start_rendering(self) -> None:
        self.stop()
        self.cache.mkdir(parents=True, exist_ok=True)
        process = QProcess(self)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.ForwardedErrorChannel)
        process.start(sys.executable, ["-m", "installation.app.thumbnails", str(self.cache), *self._pending])
        self._process = process
        self._timer.start()

    def _collect(self) -> None:
        """Show every thumbnail that has appeared; stop polling when the renderer is done."""
        for name in list(self._pending):
            cached = self._cached(name)
            if cached is None:
                continue
            self._pending.remove(name)
            for row in range(self.list.count()):
                item = self.list.item(row)
                if item.data(Qt.ItemDataRole.UserRole) == name:
                    item.setIcon(QIcon(QPixmap(str(cached))))
        process = self._process
        if not self._pending or process is None or process.state() == QProcess.ProcessState.NotRunning:
            self._timer.stop()

    def apply_search(self, text: str) -> None:
        words = text.lower().split()
        for row in range(self.list.count()):
            item = self.list.item(row)
            haystack = self._texts.get(item.data(Qt.ItemDataRole.UserRole), "")
            item.setHidden(not all(word in haystack for word in words))

    def _recall_selected(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.recall.emit(item.data(Qt.ItemDataRole.UserRole))

    def show_crossfade(self, seconds: float) -> None:
        self.crossfade_note.setText(f"crossfade {seconds:.1f} s (set it in the transport)")

    def stop(self) -> None:
        """Stop polling and end the thumbnail process (the app leaves no process behind)."""
        self._timer.stop()
        process, self._process = self._process, None
        if process is not None and process.state() != QProcess.ProcessState.NotRunning:
            process.kill()
            process.waitForFinished(3000)
