"""The control window's Effects tab: the running ISF chain, and the ISF files to add to it.

The chain list shows the engine's effect chain as it is (order, kind, bypass, fading); its
buttons and the browser post effect commands (``effect_add``, ``effect_remove``,
``effect_bypass``, ``effect_move``) like OSC and MIDI do, so every change crossfades in the
engine and nothing here holds show state. The browser lists every ``.fs`` file of the ISF
folders (``--isf-dir``, the user's, the shipped) with a thumbnail rendered by a separate
process (:mod:`installation.app.thumbnails`): a filter over a still of the current preset, a
generator alone. Editing an effect's inputs happens in the Parameters tab (``isf.<effect>.*``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from installation.core.commands import Command
from installation.core.effects import Slot, available, isf_thumbnail_file
from installation.core.errors import LoadError
from installation.core.isf import load_isf
from installation.ui.browser import Entry, ThumbnailGrid

log = logging.getLogger(__name__)


class IsfBrowser(ThumbnailGrid):
    """Every ISF file Myco can find, by name: title, kind, categories and credit, searchable."""

    def __init__(self, folders: Iterable[Path], cache: Path, preset: Callable[[], str],
                 render_thumbnails: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(cache, render_thumbnails, "Search ISF effects (name, kind, category, credit)…",
                         "Add to the chain  [double-click]", parent)
        self.folders = list(folders)
        self.preset = preset  # the preset whose still the filters' thumbnails are drawn over
        self.paths: dict[str, Path] = {}
        self._seen: dict[str, int] = {}
        self.bar.addStretch(1)
        self.reload()

    def entries(self) -> list[Entry]:
        self._seen = self._stamps()
        self.paths = available(self.folders)
        found = []
        for name, path in self.paths.items():
            try:
                shader = load_isf(path)
                title = f"{shader.title or name}\n{shader.kind}"
                words = " ".join((name, shader.title, shader.kind, *shader.categories, shader.credit))
                loads = True
            except LoadError as error:  # listed with its error, never hidden: the artist is editing it
                title, words, loads = f"{name}\n(error)", name, False
                log.warning("ISF file %s: %s", path, error)
            try:
                thumbnail: Path | None = isf_thumbnail_file(self.cache, path)
            except OSError:
                thumbnail = None
            found.append(Entry(name, title, words.lower(), thumbnail, loads))
        return found

    def follow_folders(self) -> None:
        """List again when a file was added, removed or saved in the folders (a thumbnail is
        rendered again for a saved one)."""
        if self._stamps() != self._seen:
            self.reload()

    def _stamps(self) -> dict[str, int]:
        stamps = {}
        for name, path in available(self.folders).items():
            try:
                stamps[name] = path.stat().st_mtime_ns
            except OSError:
                stamps[name] = 0
        return stamps

    def render_args(self, keys: list[str]) -> list[str]:
        return ["--isf", str(self.cache), self.preset(), *(str(self.paths[key]) for key in keys)]


def describe(slot: Slot) -> str:
    """One line of the chain list: name, kind, file, and what it is doing."""
    kind = "filter" if slot.filter else (f"mask ({slot.mask})" if slot.mask else
                                         f"layer, {slot.blend} {slot.opacity:.0%}")
    state = ", bypassed" if slot.bypass else ""
    if slot.level < 1.0 and slot.target != slot.level:
        state += f", fading {'in' if slot.target > slot.level else 'out'}"
    return f"{slot.name}  ·  {kind}  ·  {slot.path.name}{state}"


class EffectsPanel(QWidget):
    """The chain (top) and the browser (below); ``command`` carries what the operator asks."""

    command = Signal(object, str)  # (Command, argument)

    def __init__(self, browser: IsfBrowser, slots: Callable[[], tuple[Slot, ...]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.browser = browser
        self.slots = slots
        self.chain = QListWidget()
        self.chain.setMaximumHeight(160)
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for key, label in (("bypass", "Bypass on/off"), ("remove", "Remove"), ("up", "Move up"), ("down", "Move down")):
            button = QPushButton(label)
            button.clicked.connect(lambda _checked=False, k=key: self._act(k))
            row.addWidget(button)
            self.buttons[key] = button
        row.addStretch(1)
        note = QLabel("Changes crossfade. An effect's inputs are parameters isf.&lt;effect&gt;.&lt;input&gt; "
                      "in the Parameters tab; save the preset to keep the chain.")
        note.setObjectName("muted")
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Effect chain, applied in order to the organism's picture"))
        layout.addWidget(self.chain)
        layout.addLayout(row)
        layout.addWidget(note)
        layout.addWidget(browser, 1)
        browser.chosen.connect(self._add)
        self._shown: list[str] = []
        self.refresh()

    def refresh(self) -> None:
        """Show the chain as the engine has it now (the effects leaving are not listed)."""
        staying = [slot for slot in self.slots() if not slot.leaving]
        lines = [describe(slot) for slot in staying]
        if lines == self._shown:
            return
        selected = self.selected()
        self._shown = lines
        self.chain.clear()
        for slot, line in zip(staying, lines, strict=True):
            item = QListWidgetItem(line)
            item.setData(Qt.ItemDataRole.UserRole, slot.name)
            self.chain.addItem(item)
            if slot.name == selected:
                self.chain.setCurrentItem(item)
        if not staying:
            self.chain.addItem(QListWidgetItem("(no effects: double-click one below to add it)"))

    def selected(self) -> str:
        item = self.chain.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole) or "") if item is not None else ""

    def _add(self, name: str) -> None:
        # by name, so a saved preset names the file portably; a path where the name cannot be an argument
        path = self.browser.paths.get(name)
        self.command.emit(Command.EFFECT_ADD, str(path) if "=" in name and path is not None else name)

    def _act(self, key: str) -> None:
        name = self.selected()
        if not name:
            return
        names = [slot.name for slot in self.slots() if not slot.leaving]
        if key == "bypass":
            self.command.emit(Command.EFFECT_BYPASS, name)
        elif key == "remove":
            self.command.emit(Command.EFFECT_REMOVE, name)
        elif name in names:
            place = names.index(name) + (-1 if key == "up" else 1)
            if 0 <= place < len(names):
                self.command.emit(Command.EFFECT_MOVE, f"{name} {place}")
