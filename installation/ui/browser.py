"""The preset browser: thumbnails, search, recall with the crossfade time.

Thumbnails are rendered offscreen from each preset (by the ``render`` callable the app
passes in) one per timer tick, so opening the browser never stalls the output, and cached
as PNG next to the user's state keyed by the preset file's modification time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap
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

from installation.core.presets import PresetLibrary
from installation.ui import theme

log = logging.getLogger(__name__)

THUMB = QSize(192, 108)
RenderThumbnail = Callable[[str, int, int], QImage | None]


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

    def __init__(self, library: PresetLibrary, cache: Path, render: RenderThumbnail | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.cache = cache
        self._render = render
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
        self._timer.setInterval(50)
        self._timer.timeout.connect(self._render_next)
        self.reload()

    def reload(self) -> None:
        """List every preset the library finds; queue thumbnails that are missing or stale."""
        self.list.clear()
        self._texts.clear()
        self._pending.clear()
        for name in self.library.names():
            try:
                preset = self.library.load(name)
                title, tags = preset.title or name, " ".join(preset.tags)
            except Exception as error:  # a broken preset is listed with its error, never hidden
                title, tags = f"{name} (error)", ""
                log.warning("preset %s: %s", name, error)
            item = QListWidgetItem(title)
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setToolTip(name)
            cached = self._cached(name)
            item.setIcon(QIcon(QPixmap.fromImage(QImage(str(cached))) if cached else placeholder(title)))
            if cached is None:
                self._pending.append(name)
            self.list.addItem(item)
            self._texts[name] = f"{name} {title} {tags}".lower()
        if self._pending and self._render is not None:
            self._timer.start()
        self.apply_search(self.search.text())

    def _cache_path(self, name: str) -> Path | None:
        try:
            mtime = int(self.library.path(name).stat().st_mtime)
        except Exception:
            return None
        return self.cache / f"{name}-{mtime}.png"

    def _cached(self, name: str) -> Path | None:
        path = self._cache_path(name)
        return path if path is not None and path.is_file() else None

    def _render_next(self) -> None:
        if not self._pending or self._render is None:
            self._timer.stop()
            return
        name = self._pending.pop(0)
        try:
            image = self._render(name, THUMB.width(), THUMB.height())
        except Exception as error:
            log.warning("thumbnail of %s: %s", name, error)
            image = None
        if image is None:
            return
        path = self._cache_path(name)
        if path is not None:
            self.cache.mkdir(parents=True, exist_ok=True)
            image.save(str(path))
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == name:
                item.setIcon(QIcon(QPixmap.fromImage(image)))

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
        self._timer.stop()
