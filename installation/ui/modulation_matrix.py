"""The modulation matrix (Ctrl+Shift+M): sources down, parameters across, a depth in each routed cell.

It edits a copy of the routings and emits :attr:`ModulationMatrix.changed` with the whole new set;
the app posts it to the engine's inputs (:class:`~installation.core.events.RoutingsInput`), and
saving the preset writes them as its ``[[modulation]]`` tables. Each source's row shows its value
now, read from the engine's modulator.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from installation.core.events import EventKind
from installation.core.modulation import (
    ModCurve,
    RateUnit,
    Routing,
    Shape,
    Source,
    SourceKind,
    modulatable,
    source_names,
)
from installation.core.params import ParamSpec


def depth_box(value: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(-1.0, 1.0)
    box.setSingleStep(0.05)
    box.setDecimals(2)
    box.setValue(value)
    return box


def combo(items: Sequence[str]) -> QComboBox:
    box = QComboBox()
    box.addItems(list(items))
    return box


class ModulationMatrix(QDialog):
    changed = Signal(object)  # tuple[Routing, ...]: every routing, after an edit
    save_requested = Signal()

    def __init__(self, specs: Callable[[], Mapping[str, ParamSpec]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Modulation")
        self._specs = specs
        self.routings: list[Routing] = []
        self._seen: tuple[Routing, ...] | None = None  # the engine's routings last shown
        self._sent: tuple[Routing, ...] | None = None  # the routings last emitted
        self.sources: list[Source] = []
        self.targets: list[str] = []
        self.cells: dict[tuple[int, int], int] = {}  # (row, column) → index into routings
        self.table = QTableWidget()
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.remove_button = QPushButton("Remove routing")
        self.remove_button.clicked.connect(self._remove_selected)
        save = QPushButton("Save preset")
        save.clicked.connect(self.save_requested.emit)
        # the form that adds a routing: the fields of the chosen source's kind are enabled
        self.source_box = combo(source_names())
        self.shape_box = combo([shape.value for shape in Shape])
        self.rate_box = QDoubleSpinBox()
        self.rate_box.setRange(0.001, 10000.0)
        self.rate_box.setDecimals(3)
        self.rate_box.setValue(1.0)
        self.unit_box = combo([unit.value for unit in RateUnit])
        self.event_box = combo([kind.value for kind in EventKind])
        self.channel_box = QSpinBox()
        self.channel_box.setRange(1, 16)
        self.cc_box = QSpinBox()
        self.cc_box.setRange(0, 127)
        self.cc_box.setValue(1)
        self.target_box = QComboBox()
        self.target_box.setMinimumContentsLength(24)
        self.depth_box = depth_box(0.25)
        self.curve_box = combo([curve.value for curve in ModCurve])
        self.bipolar_box = QCheckBox("bipolar")
        add = QPushButton("Add routing")
        add.clicked.connect(self._add)
        self.source_box.currentTextChanged.connect(self._enable_fields)
        form = QGridLayout()
        fields: list[tuple[str, QWidget]] = [
            ("source", self.source_box), ("shape", self.shape_box), ("rate", self.rate_box), ("unit", self.unit_box),
            ("event", self.event_box), ("channel", self.channel_box), ("cc", self.cc_box), ("target", self.target_box),
            ("depth", self.depth_box), ("curve", self.curve_box), ("", self.bipolar_box), ("", add)]
        for index, (label, widget) in enumerate(fields):
            form.addWidget(QLabel(label), 0, index)
            form.addWidget(widget, 1, index)
        buttons = QHBoxLayout()
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(save)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addLayout(form)
        self._enable_fields(self.source_box.currentText())
        self.resize(980, 420)

    # -- from the engine ---------------------------------------------------------------------
    def show_routings(self, routings: tuple[Routing, ...]) -> None:
        """Follow the engine's routings (a recalled preset); an edit of ours on its way is not undone."""
        if routings == self._seen or routings == self._sent:
            self._seen = routings
            return
        self._seen = routings
        self.routings = list(routings)
        self._rebuild()

    def show_values(self, values: Mapping[Source, float]) -> None:
        """Each source's value now, beside its name."""
        for row, source in enumerate(self.sources):
            value = values.get(source)
            item = self.table.verticalHeaderItem(row)
            if item is not None:
                item.setText(source.label + ("" if value is None else f"   {value:.2f}"))

    def refresh_targets(self) -> None:
        names = [name for name, spec in sorted(self._specs().items()) if not modulatable(spec)]
        if names != [self.target_box.itemText(i) for i in range(self.target_box.count())]:
            current = self.target_box.currentText()
            self.target_box.clear()
            self.target_box.addItems(names)
            if current in names:
                self.target_box.setCurrentText(current)

    # -- edits -------------------------------------------------------------------------------
    def _rebuild(self) -> None:
        self.sources = list(dict.fromkeys(routing.source for routing in self.routings))
        self.targets = list(dict.fromkeys(routing.target for routing in self.routings))
        self.cells = {}
        self.table.clear()
        self.table.setRowCount(len(self.sources))
        self.table.setColumnCount(len(self.targets))
        self.table.setVerticalHeaderLabels([source.label for source in self.sources])
        self.table.setHorizontalHeaderLabels(self.targets)
        for index, routing in enumerate(self.routings):
            cell = (self.sources.index(routing.source), self.targets.index(routing.target))
            if cell in self.cells:
                continue  # a second routing of the same pair (another curve): edited in the file
            self.cells[cell] = index
            box = depth_box(routing.depth)
            box.setToolTip(f"{routing.source.label} → {routing.target}: depth, curve {routing.curve.value}"
                           + (", bipolar" if routing.bipolar else ""))
            box.valueChanged.connect(lambda value, i=index: self._set_depth(i, value))
            self.table.setCellWidget(*cell, box)
        self.table.resizeColumnsToContents()
        self.remove_button.setEnabled(bool(self.routings))

    def _emit(self) -> None:
        self._sent = tuple(self.routings)
        self.changed.emit(self._sent)

    def _set_depth(self, index: int, depth: float) -> None:
        self.routings[index] = replace(self.routings[index], depth=round(depth, 4))
        self._emit()

    def _remove_selected(self) -> None:
        index = self.cells.get((self.table.currentRow(), self.table.currentColumn()))
        if index is None:
            return
        del self.routings[index]
        self._rebuild()
        self._emit()

    def _enable_fields(self, text: str) -> None:
        kind = SourceKind(text.partition(".")[0])
        for widget, kinds in ((self.shape_box, {SourceKind.LFO}), (self.rate_box, {SourceKind.LFO}),
                              (self.unit_box, {SourceKind.LFO}), (self.event_box, {SourceKind.ENVELOPE}),
                              (self.channel_box, {SourceKind.MIDI}), (self.cc_box, {SourceKind.MIDI})):
            widget.setEnabled(kind in kinds)

    def new_source(self) -> Source:
        """The source the form describes."""
        kind_text, _, name = self.source_box.currentText().partition(".")
        kind = SourceKind(kind_text)
        if kind is SourceKind.LFO:
            return Source(kind, shape=Shape(self.shape_box.currentText()), rate=self.rate_box.value(),
                          unit=RateUnit(self.unit_box.currentText()))
        if kind is SourceKind.ENVELOPE:
            return Source(kind, self.event_box.currentText())
        if kind is SourceKind.MIDI:
            return Source(kind, channel=self.channel_box.value(), cc=self.cc_box.value())
        return Source(kind, name)

    def _add(self) -> None:
        target = self.target_box.currentText()
        if not target:
            return
        self.routings.append(Routing(self.new_source(), target, round(self.depth_box.value(), 4),
                                     ModCurve(self.curve_box.currentText()), self.bipolar_box.isChecked()))
        self._rebuild()
        self._emit()

    def showEvent(self, event: QShowEvent) -> None:
        self.refresh_targets()
        super().showEvent(event)
