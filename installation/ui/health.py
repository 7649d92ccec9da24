"""Health at a glance: fps and frame times, sound load and underflows, MIDI activity, errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtWidgets import QGridLayout, QLabel, QListWidget, QVBoxLayout, QWidget

from installation.ui import theme
from installation.ui.plot import Sparkline

FRAME_HISTORY = 240


class HealthPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fps = Sparkline("fps", color=theme.ACCENT, fixed_range=(0.0, 75.0))
        self.frame_ms = Sparkline("frame time", "ms", color=theme.WARN, limit=1000 / 60, capacity=FRAME_HISTORY)
        self.audio_load = Sparkline("audio load", "%", color="#c48df0", fixed_range=(0.0, 100.0), limit=80.0)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.audio = QLabel()
        self.audio.setWordWrap(True)
        self.midi = QLabel("MIDI: –")
        self.errors = QListWidget()
        self.errors.setMinimumHeight(70)
        self.errors.setMaximumHeight(150)
        self.errors.setWordWrap(True)
        grid = QGridLayout()
        grid.addWidget(self.fps, 0, 0)
        grid.addWidget(self.frame_ms, 0, 1)
        grid.addWidget(self.audio_load, 1, 0)
        grid.addWidget(self.audio, 1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addLayout(grid)
        layout.addWidget(self.midi)
        errors_title = QLabel("Errors")
        errors_title.setObjectName("muted")
        layout.addWidget(errors_title)
        layout.addWidget(self.errors)
        self._errors_shown = -1

    def update_from(self, status: Mapping[str, Any], frame_times_ms: list[float], midi_text: str) -> None:
        """Refresh from the runtime's status document (same figures as /status)."""
        fps = float(status.get("fps", 0.0))
        self.fps.add(fps)
        self.frame_ms.set_values(frame_times_ms[-FRAME_HISTORY:])
        frame = status.get("frame_ms", {})
        self.summary.setText(f"{fps:.1f} fps   frame p50 {frame.get('p50', 0):.1f} ms, p99 {frame.get('p99', 0):.1f} ms"
                             f"   steps skipped {status.get('late_steps', 0)}")
        audio = status.get("audio", {})
        load = float(audio.get("load") or 0.0) * 100
        self.audio_load.add(load)
        color = theme.TEXT if audio.get("running") else theme.WARN
        self.audio.setText(f"<span style='color:{color}'>Sound: {audio.get('notice', '')}</span><br>"
                           f"device {audio.get('device') or '–'}, underflows {audio.get('underflows', 0)}")
        self.midi.setText(midi_text)
        if status.get("errors_total", 0) != self._errors_shown:
            self._errors_shown = status.get("errors_total", 0)
            self.errors.clear()
            for entry in reversed(status.get("errors", [])):
                self.errors.addItem(f"{entry['time'][11:]}  {entry['source']}: {entry['message']}")
