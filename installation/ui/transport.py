"""The show transport: the acts with their story titles, where we are, and the controls."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from installation.core.commands import Command
from installation.core.events import CommandInput
from installation.core.shows import ShowPlayer


def clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class TransportPanel(QWidget):
    """Acts list, position and time left, previous / next / jump, loop, pause and crossfade length.

    Commands go to the engine through ``post``; the crossfade length is the
    ``show.recall_crossfade`` parameter, set through ``set_param``.
    """

    def __init__(self, player: ShowPlayer, post: Callable[[CommandInput], None],
                 set_param: Callable[[str, object], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.player = player
        self._post = post
        self._set_param = set_param
        self.title = QLabel(player.show.title)
        self.title.setObjectName("title")
        self.acts = QListWidget()
        self.acts.setMaximumHeight(96)
        for index, act in enumerate(player.show.acts):
            item = QListWidgetItem(f"{index + 1}. {act.title}   ({clock(act.duration_s)})")
            item.setToolTip(act.story or act.title)
            self.acts.addItem(item)
        self.acts.itemDoubleClicked.connect(lambda _item: self.jump())
        self.position = QLabel()
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(6)
        self.previous_button = QPushButton("◀ Previous  [PgUp]")
        self.next_button = QPushButton("Next ▶  [PgDown]")
        self.jump_button = QPushButton("Jump to selected")
        self.previous_button.clicked.connect(lambda: post(CommandInput(Command.PREVIOUS_ACT)))
        self.next_button.clicked.connect(lambda: post(CommandInput(Command.NEXT_ACT)))
        self.jump_button.clicked.connect(self.jump)
        self.loop = QCheckBox("Loop show")
        self.loop.setChecked(player.loop)
        self.loop.toggled.connect(lambda on: post(CommandInput(Command.LOOP, "on" if on else "off")))
        self.pause = QCheckBox("Pause  [P]")
        self.pause.setToolTip("Hold the show timeline; the organism lives on")
        self.pause.setChecked(player.paused)
        self.pause.toggled.connect(lambda on: post(CommandInput(Command.PAUSE, "on" if on else "off")))
        self.crossfade = QDoubleSpinBox()
        self.crossfade.setRange(0.0, 60.0)
        self.crossfade.setSuffix(" s")
        self.crossfade.setDecimals(1)
        self.crossfade.setToolTip("Crossfade time for preset recalls")
        self.crossfade.valueChanged.connect(lambda value: set_param("show.recall_crossfade", value))
        buttons = QHBoxLayout()
        for widget in (self.previous_button, self.next_button, self.jump_button):
            buttons.addWidget(widget)
        options = QHBoxLayout()
        options.addWidget(self.loop)
        options.addWidget(self.pause)
        options.addStretch(1)
        options.addWidget(QLabel("Crossfade"))
        options.addWidget(self.crossfade)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.acts)
        layout.addWidget(self.position)
        layout.addWidget(self.progress)
        layout.addLayout(buttons)
        layout.addLayout(options)

    def jump(self) -> None:
        row = self.acts.currentRow()
        if row >= 0:
            self._post(CommandInput(Command.JUMP_ACT, str(row)))

    def refresh(self, crossfade_s: float) -> None:
        player = self.player
        act = player.act
        for row in range(self.acts.count()):
            item = self.acts.item(row)
            font = item.font()
            font.setBold(row == player.act_index)
            item.setFont(font)
            item.setForeground(Qt.GlobalColor.white if row == player.act_index else Qt.GlobalColor.gray)
        self.position.setText(f"Act {player.act_index + 1} of {len(player.show.acts)}: {act.title}   "
                              f"{clock(player.position_s)} / {clock(act.duration_s)}   "
                              f"({clock(player.time_left_s)} left)")
        self.progress.setRange(0, max(1, round(act.duration_s)))
        self.progress.setValue(round(player.position_s))
        for box, on in ((self.loop, player.loop), (self.pause, player.paused)):  # MIDI or OSC may have switched
            if box.isChecked() != on:
                box.blockSignals(True)
                box.setChecked(on)
                box.blockSignals(False)
        if not self.crossfade.hasFocus():
            self.crossfade.blockSignals(True)
            self.crossfade.setValue(crossfade_s)
            self.crossfade.blockSignals(False)
