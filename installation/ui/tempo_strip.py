"""The tempo strip: the show's tempo, where it comes from, the bar and beat; Tap, Follow, Launch on.

Tap goes straight to the engine's :class:`~installation.core.tempo.Tempo` (thread-safe) with
the moment of the click, so the GUI's refresh rate does not quantise the taps. Follow and
Launch on are the ``tempo.follow`` and ``tempo.quantize`` parameters, posted like any other.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from installation.core.commands import Quantum
from installation.core.tempo import FOLLOW, QUANTIZE, Follow, Tempo


class TempoStrip(QWidget):
    """``120.0 BPM  midi  bar 3 · 2``, a Tap button, and the Follow and Launch on choices."""

    def __init__(self, tempo: Tempo, set_param: Callable[[str, object], object],
                 clock: Callable[[], float] = time.monotonic, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tempo = tempo
        self._clock = clock
        self.reading = QLabel()
        self.reading.setMinimumWidth(200)
        self.tap = QPushButton("Tap")
        self.tap.setToolTip("Tap the beat: from the second tap, the tempo of the last taps")
        self.tap.pressed.connect(lambda: tempo.tap(self._clock()))  # on press: the moment the finger lands
        self.follow = QComboBox()
        self.follow.addItems([follow.value for follow in Follow])
        self.follow.setToolTip("auto: MIDI clock while it ticks, else Link with peers, else the manual tempo")
        self.follow.activated.connect(lambda _: set_param(FOLLOW, self.follow.currentText()))
        self.launch = QComboBox()
        self.launch.addItems([quantum.value for quantum in Quantum])
        self.launch.setToolTip("When a performer's act changes, recalls and story events land")
        self.launch.activated.connect(lambda _: set_param(QUANTIZE, self.launch.currentText()))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.reading)
        layout.addWidget(self.tap)
        layout.addStretch(1)
        layout.addWidget(QLabel("Follow"))
        layout.addWidget(self.follow)
        layout.addWidget(QLabel("Launch on"))
        layout.addWidget(self.launch)

    def refresh(self, quantize: str) -> None:
        """Show the tempo now, and the choices as they stand (changed by MIDI or OSC too)."""
        position = self.tempo.position(self._clock())
        stopped = "" if self.tempo.running else "  stopped"
        self.reading.setText(f"{self.tempo.bpm:.1f} BPM  {self.tempo.source}  "
                             f"bar {position.bar + 1} · {position.beat_in_bar + 1}{stopped}")
        if not self.follow.hasFocus():
            self.follow.setCurrentText(self.tempo.follow.value)
        if not self.launch.hasFocus():
            self.launch.setCurrentText(quantize)
