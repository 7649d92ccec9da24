"""Small live plots drawn with QPainter: cheap enough to repaint several times a second."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from PySide6.QtCore import QPointF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from installation.ui import theme


class Sparkline(QWidget):
    """A line of the last ``capacity`` values with its label, latest value and optional limit line."""

    def __init__(self, label: str, unit: str = "", color: str = theme.ACCENT, capacity: int = 240,
                 fixed_range: tuple[float, float] | None = None, limit: float | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = label
        self.unit = unit
        self.color = QColor(color)
        self.values: deque[float] = deque(maxlen=capacity)
        self.fixed_range = fixed_range
        self.limit = limit
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(54)

    def sizeHint(self) -> QSize:
        return QSize(240, 54)

    def add(self, value: float) -> None:
        self.values.append(float(value))
        self.update()

    def set_values(self, values: Iterable[float]) -> None:
        self.values.clear()
        self.values.extend(float(v) for v in values)
        self.update()

    def value_range(self) -> tuple[float, float]:
        if self.fixed_range is not None:
            return self.fixed_range
        if not self.values:
            return (0.0, 1.0)
        lo, hi = min(self.values), max(self.values)
        if self.limit is not None:
            hi = max(hi, self.limit * 1.1)
        if hi - lo < 1e-9:
            hi = lo + 1.0
        return (lo, hi)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor(theme.PANEL))
        width, height = self.width(), self.height()
        top, bottom = 16, height - 4
        lo, hi = self.value_range()

        def y_of(value: float) -> float:
            return bottom - (value - lo) / (hi - lo) * (bottom - top)

        if self.limit is not None and lo <= self.limit <= hi:
            painter.setPen(QPen(QColor(theme.WARN), 1, Qt.PenStyle.DashLine))
            painter.drawLine(QPointF(0, y_of(self.limit)), QPointF(width, y_of(self.limit)))
        if len(self.values) >= 2:
            step = width / (self.values.maxlen or len(self.values))
            offset = width - step * len(self.values)
            points = QPolygonF([QPointF(offset + i * step, y_of(v)) for i, v in enumerate(self.values)])
            painter.setPen(QPen(self.color, 1.5))
            painter.drawPolyline(points)
        painter.setPen(QColor(theme.MUTED))
        latest = f"{self.values[-1]:.3g} {self.unit}".strip() if self.values else "–"
        painter.drawText(6, 12, f"{self.label}: {latest}")

