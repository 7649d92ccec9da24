"""The node monitor: the network map, per-node signal plots, per-source input counters."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from installation.core.frames import WorldFrame
from installation.ui import theme
from installation.ui.plot import Sparkline

HISTORY = 300  # samples per node kept for the plots (30 s at the monitor's 10 Hz)


class NetworkMap(QWidget):
    """Nodes at their canvas positions, links by flow; live nodes filled green, simulated hollow."""

    node_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.frame: WorldFrame | None = None
        self.selected = ""
        self.setMinimumSize(260, 150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(420, 240)

    def show_frame(self, frame: WorldFrame) -> None:
        self.frame = frame
        self.update()

    def _area(self) -> QRectF:
        aspect = self.frame.aspect if self.frame is not None else 16 / 9
        width, height = float(self.width() - 16), float(self.height() - 16)
        if width / height > aspect:
            width = height * aspect
        else:
            height = width / aspect
        return QRectF((self.width() - width) / 2, (self.height() - height) / 2, width, height)

    def _points(self) -> list[QPointF]:
        if self.frame is None:
            return []
        area = self._area()
        return [QPointF(area.x() + x * area.width(), area.y() + y * area.height())
                for x, y in np.asarray(self.frame.positions, float)]

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor(theme.PANEL))
        painter.setPen(QPen(QColor(theme.RAISED), 1))
        painter.drawRect(self._area())
        frame = self.frame
        if frame is None:
            return
        points = self._points()
        for (a, b), flow, thickness in zip(frame.links, frame.flow, frame.thickness, strict=True):
            color = QColor(theme.ACCENT)
            color.setAlphaF(0.25 + 0.75 * float(flow))
            painter.setPen(QPen(color, 0.5 + 3.0 * float(thickness)))
            painter.drawLine(points[a], points[b])
        for index, point in enumerate(points):
            live = bool(frame.live[index])
            radius = 3.0 + 5.0 * float(frame.activity[index])
            color = QColor(theme.LIVE if live else theme.SIMULATED)
            painter.setPen(QPen(QColor(theme.TEXT) if frame.node_ids[index] == self.selected else color, 1.5))
            painter.setBrush(color if live else Qt.BrushStyle.NoBrush)
            painter.drawEllipse(point, radius, radius)
        painter.setPen(QColor(theme.MUTED))
        live_count = int(np.count_nonzero(frame.live))
        painter.drawText(8, 14, f"● live {live_count}   ○ simulated {frame.node_count - live_count}")

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.frame is None:
            return
        position = event.position()
        best, best_distance = "", 12.0 ** 2
        for index, point in enumerate(self._points()):
            distance = (point.x() - position.x()) ** 2 + (point.y() - position.y()) ** 2
            if distance < best_distance:
                best, best_distance = self.frame.node_ids[index], distance
        if best:
            self.node_clicked.emit(best)


class NodeMonitor(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.map = NetworkMap()
        self.map.node_clicked.connect(self.select)
        self.node_label = QLabel("Click a node on the map to plot its signals")
        self.node_label.setObjectName("muted")
        self.potential = Sparkline("potential", "mV", color=theme.ACCENT, capacity=HISTORY)
        self.toxin = Sparkline("toxin", color="#a070e0", capacity=HISTORY, fixed_range=(0.0, 1.0))
        self.waste = Sparkline("waste", color=theme.WARN, capacity=HISTORY, fixed_range=(0.0, 1.0))
        self.counters = QTableWidget(0, 3)
        self.counters.setHorizontalHeaderLabels(["source", "received", "dropped (by reason)"])
        self.counters.horizontalHeader().setStretchLastSection(True)
        self.counters.verticalHeader().setVisible(False)
        self.counters.setMaximumHeight(120)
        self.history: dict[str, dict[str, deque[float]]] = {}
        plots = QVBoxLayout()
        plots.addWidget(self.node_label)
        for plot in (self.potential, self.toxin, self.waste):
            plots.addWidget(plot)
        plots.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(self.map, 3)
        top.addLayout(plots, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        title = QLabel("Inputs")
        title.setObjectName("muted")
        layout.addWidget(title)
        layout.addWidget(self.counters)

    def select(self, node: str) -> None:
        self.map.selected = node
        self._show_history()

    def record(self, frame: WorldFrame) -> None:
        """Append this frame's readings to every node's history and redraw."""
        for index, node in enumerate(frame.node_ids):
            series = self.history.setdefault(node, {k: deque(maxlen=HISTORY) for k in ("potential", "toxin", "waste")})
            series["potential"].append(float(frame.potential_mv[index]))
            series["toxin"].append(float(frame.toxin[index]))
            series["waste"].append(float(frame.waste[index]))
        for gone in set(self.history) - set(frame.node_ids):
            del self.history[gone]
        if not self.map.selected and frame.node_ids:
            self.map.selected = frame.node_ids[0]
        self.map.show_frame(frame)
        self._show_history()
        if self.map.selected in frame.node_ids:
            live = bool(frame.live[frame.index_of(self.map.selected)])
            self.node_label.setText(f"Node {self.map.selected} ({'live sensor' if live else 'simulated'})")

    def _show_history(self) -> None:
        series = self.history.get(self.map.selected)
        if series is None:
            return
        self.potential.set_values(series["potential"])
        self.toxin.set_values(series["toxin"])
        self.waste.set_values(series["waste"])

    def show_counters(self, inputs: Mapping[str, Mapping[str, Any]]) -> None:
        self.counters.setRowCount(len(inputs))
        for row, (source, data) in enumerate(sorted(inputs.items())):
            dropped = data.get("dropped") or {}
            reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(dropped.items())) or "none"
            for column, text in enumerate((source, str(data.get("received", 0)), reasons)):
                self.counters.setItem(row, column, QTableWidgetItem(text))
