"""The deck strip: what the crossfader's two decks hold, the fader, and loading the deck off air.

It shows the engine's :class:`~installation.core.decks.Decks` and posts what the performer
does (``deck_load`` and the ``mix.crossfader`` parameter), like every other control; the
engine decides (a load while both decks are on air is refused there, and reported).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel, QPushButton, QSlider, QWidget

from installation.core.commands import CROSSFADER, Command
from installation.core.decks import Deck, Decks
from installation.core.events import CommandInput
from installation.ui.theme import MUTED, TEXT

STEPS = 1000  # the slider's resolution, finer than a 7-bit MIDI fader
ON_AIR = f"color: {TEXT}; font-weight: bold;"
OFF_AIR = f"color: {MUTED};"


class DeckStrip(QWidget):
    """Deck A's preset, the fader, deck B's preset; a preset list and "Load into <off-air deck>"."""

    def __init__(self, presets: list[str], post: Callable[[CommandInput], object],
                 set_param: Callable[[str, object], object], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._post = post
        self.labels = {deck: QLabel() for deck in Deck}
        for deck, label in self.labels.items():
            label.setAlignment(Qt.AlignmentFlag.AlignRight if deck is Deck.B else Qt.AlignmentFlag.AlignLeft)
        self.fader = QSlider(Qt.Orientation.Horizontal)
        self.fader.setRange(0, STEPS)
        self.fader.setToolTip(f"The A/B crossfader ({CROSSFADER}): 0 plays deck A, 1 deck B")
        self.fader.valueChanged.connect(lambda value: set_param(CROSSFADER, value / STEPS))
        self.choice = QComboBox()
        self.choice.addItems(presets)
        self.load = QPushButton()
        self.load.clicked.connect(self._load)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.labels[Deck.A], 0, 0)
        layout.addWidget(self.fader, 0, 1)
        layout.addWidget(self.labels[Deck.B], 0, 2)
        layout.addWidget(self.choice, 1, 0, 1, 2)
        layout.addWidget(self.load, 1, 2)
        layout.setColumnStretch(1, 1)

    def _load(self) -> None:
        if self.choice.currentText():
            self._post(CommandInput(Command.DECK_LOAD, self.choice.currentText(), "ui"))

    def refresh(self, decks: Decks) -> None:
        """Show the decks and where the fader is (moved by MIDI, OSC or the show as well)."""
        on_air = {Deck.A: decks.position < 1.0, Deck.B: decks.position > 0.0}
        for deck, label in self.labels.items():
            label.setText(f"{deck.value.upper()}: {decks.presets[deck].title}")
            label.setToolTip(decks.presets[deck].name)
            label.setStyleSheet(ON_AIR if on_air[deck] else OFF_AIR)
        if not self.fader.isSliderDown():
            self.fader.blockSignals(True)
            self.fader.setValue(round(decks.position * STEPS))
            self.fader.blockSignals(False)
        off_air = decks.off_air()
        self.load.setEnabled(off_air is not None)
        self.load.setText(f"Load into {off_air.value.upper()}" if off_air else "Both decks on air")
