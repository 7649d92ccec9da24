"""The parameter panel, generated from the parameter bank.

One row per parameter, grouped by owner (``sim``, ``render``, ``shader.hyphae``, ...): a slider
with its unit for numbers, a toggle, a choice list or a colour swatch, the source of the last
change, and a MIDI-learn button. Double-clicking a row resets it to the preset's value.

The panel never writes the bank: it emits :attr:`ParamPanel.edited` and the app posts the
change to the engine's input queue (so the UI is one more source, like MIDI and OSC), records
it for undo, and the panel shows the bank's value on its next :meth:`refresh`. A modulated
parameter's slider stays on its base value and shows where modulation takes it with a second
marker (and the value as ``base → modulated``).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QVBoxLayout,
    QWidget,
)

from installation.core.params import Kind, ParamBank, ParamSpec, Value, color_hex
from installation.ui import theme

SLIDER_STEPS = 1000
# Groups in the order an operator reaches for them; owners not listed follow alphabetically.
GROUP_ORDER = ("show", "sim", "nodes", "render", "shader", "synth", "midi")


def group_rank(owner: str) -> tuple[int, str]:
    head = owner.split(".", 1)[0]
    return (GROUP_ORDER.index(head) if head in GROUP_ORDER else len(GROUP_ORDER), owner)


def format_value(spec: ParamSpec, value: Value) -> str:
    if spec.kind is Kind.FLOAT:
        number = float(value)  # type: ignore[arg-type]
        text = f"{number:.3g}" if abs(number) < 1000 else f"{number:.0f}"
    elif spec.kind is Kind.COLOR:
        text = color_hex(value)  # type: ignore[arg-type]
    elif spec.kind is Kind.BOOL:
        text = "on" if value else "off"
    else:
        text = str(value)
    return f"{text} {spec.unit}".strip()


class ModSlider(QSlider):
    """A slider on the base value with a marker where modulation takes it (None: no marker)."""

    def __init__(self) -> None:
        super().__init__(Qt.Orientation.Horizontal)
        self.modulated: float | None = None  # 0..1

    def show_modulated(self, position: float | None) -> None:
        if position != self.modulated:
            self.modulated = position
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self.modulated is None:
            return
        option = QStyleOptionSlider()
        self.initStyleOption(option)
        handle = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, option,
                                             QStyle.SubControl.SC_SliderHandle, self)
        span = self.width() - handle.width()
        x = handle.width() / 2 + QStyle.sliderPositionFromValue(0, SLIDER_STEPS, round(self.modulated * SLIDER_STEPS),
                                                                 span)
        painter = QPainter(self)
        painter.setPen(QPen(QColor(theme.WARN), 3))
        painter.drawLine(round(x), 1, round(x), self.height() - 2)
        painter.end()


class ParamRow(QObject):
    """The widgets of one parameter in its group's grid."""

    def __init__(self, panel: ParamPanel, spec: ParamSpec, grid: QGridLayout, row: int) -> None:
        super().__init__(panel)
        self.spec = spec
        self._panel = panel
        self._updating = False
        self._shown: tuple[Value, str, Value | None] | None = None
        self.label = QLabel(spec.label or spec.name.rsplit(".", 1)[1].replace("_", " "))
        self.label.setToolTip(f"{spec.name}\n{spec.description}".strip() + "\nDouble-click: reset to the preset")
        self.control = self._make_control()
        self.value_label = QLabel()
        self.value_label.setMinimumWidth(70)
        self.source_label = QLabel()
        self.source_label.setMinimumWidth(44)
        self.learn = QPushButton("learn")
        self.learn.setCheckable(True)
        self.learn.setToolTip(f"MIDI learn: move a control on your controller to bind it to {spec.name}")
        self.learn.clicked.connect(lambda checked: panel.learn_requested.emit(spec.name if checked else ""))
        widgets = (self.label, self.control, self.value_label, self.source_label, self.learn)
        for column, widget in enumerate(widgets):
            grid.addWidget(widget, row, column)
            widget.installEventFilter(self)
        self.widgets = widgets

    def _make_control(self) -> QWidget:
        spec = self.spec
        if spec.kind in (Kind.FLOAT, Kind.INT):
            slider = ModSlider()
            slider.setRange(0, SLIDER_STEPS)
            slider.setMinimumWidth(140)
            slider.valueChanged.connect(self._slider_moved)
            return slider
        if spec.kind is Kind.BOOL:
            box = QCheckBox()
            box.toggled.connect(lambda on: self._emit(on))
            return box
        if spec.kind is Kind.ENUM:
            combo = QComboBox()
            combo.addItems(list(spec.choices))
            combo.currentTextChanged.connect(lambda text: self._emit(text))
            return combo
        swatch = QPushButton()
        swatch.setFixedWidth(60)
        swatch.clicked.connect(self._pick_color)
        return swatch

    def _emit(self, value: Value) -> None:
        if not self._updating:
            self._panel.edited.emit(self.spec.name, value)

    def _slider_moved(self, position: int) -> None:
        self._emit(self.spec.from_normalized(position / SLIDER_STEPS))

    def _pick_color(self) -> None:
        current = QColor(color_hex(self._panel.bank.get(self.spec.name)))  # type: ignore[arg-type]
        chosen = QColorDialog.getColor(current, self.control, self.spec.name,
                                       QColorDialog.ColorDialogOption.DontUseNativeDialog)
        if chosen.isValid():
            self._emit((chosen.redF(), chosen.greenF(), chosen.blueF()))

    def show_value(self, value: Value, source: str, modulated: Value | None = None) -> None:
        """Reflect the bank without echoing the change back as an edit (only what changed); ``value``
        is the base, ``modulated`` where modulation takes it (None or the same: not modulated)."""
        if modulated == value:
            modulated = None
        if (value, source, modulated) == self._shown:
            return
        self._shown = (value, source, modulated)
        self._updating = True
        try:
            control = self.control
            if isinstance(control, ModSlider):
                if not control.isSliderDown():
                    control.setValue(round(self.spec.to_normalized(value) * SLIDER_STEPS))
                control.show_modulated(None if modulated is None else self.spec.to_normalized(modulated))
            elif isinstance(control, QCheckBox):
                control.setChecked(bool(value))
            elif isinstance(control, QComboBox):
                control.setCurrentText(str(value))
            else:
                hex_color = color_hex(value)  # type: ignore[arg-type]
                control.setStyleSheet(f"background: {hex_color}; border: 1px solid #555;")
        finally:
            self._updating = False
        text = format_value(self.spec, value)
        self.value_label.setText(text if modulated is None else f"{text} → {format_value(self.spec, modulated)}")
        self.source_label.setText(source)
        self.source_label.setStyleSheet(f"color: {theme.SOURCE_COLORS.get(source, theme.MUTED)};")

    def set_visible(self, visible: bool) -> None:
        for widget in self.widgets:
            widget.setVisible(visible)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.MouseButtonDblClick:
            self._panel.reset_requested.emit(self.spec.name)
            return True
        return False


class ParamPanel(QWidget):
    """Every parameter of the bank, grouped by owner, with a filter box."""

    edited = Signal(str, object)  # name, new value: the operator moved a control
    reset_requested = Signal(str)  # name: double-click, back to the preset's value
    learn_requested = Signal(str)  # name, or "" to cancel learning

    def __init__(self, bank: ParamBank, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bank = bank
        self.rows: dict[str, ParamRow] = {}
        self.groups: dict[str, QGroupBox] = {}
        self._names: list[str] = []
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter parameters…")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        self._body = QWidget()
        self._body_layout = QVBoxLayout(self._body)
        self._body_layout.setContentsMargins(0, 0, 4, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.filter)
        layout.addWidget(scroll)
        self.learn_requested.connect(self._only_one_learning)
        self.refresh()

    def _rebuild(self) -> None:
        for group in self.groups.values():
            group.deleteLater()
        self.rows.clear()
        self.groups.clear()
        while self._body_layout.count():
            self._body_layout.takeAt(0)
        by_owner: dict[str, list[ParamSpec]] = {}
        for spec in self.bank.specs():
            by_owner.setdefault(spec.owner, []).append(spec)
        for owner, specs in sorted(by_owner.items(), key=lambda item: group_rank(item[0])):
            group = QGroupBox(owner)
            grid = QGridLayout(group)
            grid.setColumnStretch(1, 1)
            grid.setVerticalSpacing(2)
            for index, spec in enumerate(specs):
                self.rows[spec.name] = ParamRow(self, spec, grid, index)
            self.groups[owner] = group
            self._body_layout.addWidget(group)
        self._body_layout.addStretch(1)
        self._names = self.bank.names()
        self._apply_filter(self.filter.text())

    def refresh(self) -> None:
        """Show the bank's current values and sources (rebuilding if parameters came or went)."""
        if self.bank.names() != self._names:
            self._rebuild()
        base, modulated = self.bank.base_snapshot(), self.bank.snapshot()
        for name, row in self.rows.items():
            if name in base:
                row.show_value(base[name], self.bank.source(name), modulated.get(name))

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for owner, group in self.groups.items():
            shown = 0
            for name, row in self.rows.items():
                if row.spec.owner == owner:
                    visible = not needle or needle in name.lower()
                    row.set_visible(visible)
                    shown += visible
            group.setVisible(shown > 0)

    def _only_one_learning(self, name: str) -> None:
        for other, row in self.rows.items():
            if other != name:
                row.learn.setChecked(False)

    def learning(self) -> str:
        """The parameter whose learn button is down, or ""."""
        return next((name for name, row in self.rows.items() if row.learn.isChecked()), "")

    def learning_done(self) -> None:
        for row in self.rows.values():
            row.learn.setChecked(False)
