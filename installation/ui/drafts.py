"""Unsaved edits in the control window: the offer of a draft, and the question at quit.

The offer is a banner, not a dialog: a modal dialog would hold the show's event loop until
someone clicks it. The question at quit is modal (the operator is there, asking to quit);
the app writes the draft before asking, so even a kill during the question loses nothing.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMessageBox, QPushButton, QWidget


class DraftBanner(QFrame):
    """"Unsaved edits to <preset> from <time>: Restore / Discard"."""

    restore = Signal()
    discard = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("draft")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("QFrame#draft { border: 1px solid #b08a2e; border-radius: 3px; }")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.restore_button = QPushButton("Restore")
        self.restore_button.setToolTip("Apply the edits again (unsaved: undo and save work on them)")
        self.discard_button = QPushButton("Discard")
        self.discard_button.setToolTip("Throw the edits away")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.restore_button)
        layout.addWidget(self.discard_button)
        self.restore_button.clicked.connect(self.restore)
        self.discard_button.clicked.connect(self.discard)
        self.hide()

    def offer(self, preset: str, when: str, count: int) -> None:
        edits = "1 parameter" if count == 1 else f"{count} parameters"
        self.label.setText(f"Unsaved edits to <b>{preset}</b> from {when} ({edits})")
        self.show()

    def withdraw(self) -> None:
        self.hide()


def ask_unsaved(parent: QWidget | None, preset: str) -> str:
    """Ask what to do with unsaved edits before quitting: "save", "discard" or "cancel"."""
    box = QMessageBox(parent)
    box.setObjectName("unsaved-edits")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Unsaved edits")
    box.setText(f"The preset {preset} has unsaved edits.")
    box.setInformativeText("Save them into the preset before quitting? Discard throws them away; "
                           "Cancel keeps the show running.")
    box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                           | QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    box.setEscapeButton(QMessageBox.StandardButton.Cancel)
    try:
        answer = box.exec()
    finally:
        box.deleteLater()
    if answer == QMessageBox.StandardButton.Save:
        return "save"
    if answer == QMessageBox.StandardButton.Discard:
        return "discard"
    return "cancel"
