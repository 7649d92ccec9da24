"""The mapping editor: align each projector's picture on the wall from the control window.

A tab of the control window. Pick an output, put a test pattern on it, and drag the corner
pin, the mesh or the masks on a live view of that output, or with the mouse on the projector's
window itself; arrow keys nudge by one output pixel (Shift: ten). The blend, colour and mesh
size are spin boxes. The output follows every change at once. The editing itself (handles,
undo) is the pure :class:`~installation.core.mapping_edit.MappingEditModel`; this module only
draws it and turns the mouse and keys into its calls. The app is reached through
:class:`EditorHooks`, so the editor can be tried without the whole app.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QHideEvent, QImage, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from installation.core.mapping import EDGES, MAX_MESH, Mapping, Point
from installation.core.mapping_edit import MODES, MappingEditModel, Mode
from installation.core.venue import Venue
from installation.render.patterns import PATTERNS
from installation.ui import theme

# (pattern, key, label): keys 1..5 in the renderer's order work while the view has the focus; 0 is the show again.
LABELS = {"grid": "Grid", "bars": "Colour bars", "blend": "Blend check", "white": "White", "black": "Black"}
PATTERN_KEYS = tuple((pattern, str(index + 1), LABELS[pattern]) for index, pattern in enumerate(PATTERNS))
MODE_LABELS = {"pin": "Corners", "mesh": "Mesh", "mask": "Masks"}
HANDLE_RADIUS = 7  # pixels of the view, drawn and grabbed
MARGIN = 28  # pixels round the output in the view: a corner pinned past the raster stays in reach
PREVIEW_MS = 250  # the view's picture refreshes four times a second, and just after each edit
PREVIEW_MAX_WIDTH = 1280


@dataclass(frozen=True)
class EditorHooks:
    """What the editor asks of the app."""

    set_mapping: Callable[[str, Mapping], None]  # show it on that output now
    set_pattern: Callable[[str, str | None], None]  # a test pattern on that output, None: the show
    save: Callable[[], Path | None]  # save the venue; None when it failed (the app says why)
    preview: Callable[[int, int], QImage]  # what output ``index`` shows, ``width`` pixels wide
    output_size: Callable[[int], tuple[int, int]]  # its window's pixels


class MappingCanvas(QWidget):
    """The selected output's picture with the handles of the mode drawn over it."""

    def __init__(self, editor: MappingEditor) -> None:
        super().__init__()
        self.editor = editor
        self.image = QImage()
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(320, 200)
        self.setCursor(Qt.CursorShape.CrossCursor)

    def output_rect(self) -> QRectF:
        """Where the output's 0..1 lies in this widget: as large as fits, at the output's aspect."""
        width, height = self.editor.output_size()
        room = QRectF(self.rect()).adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN)
        scale = min(room.width() / width, room.height() / height)
        rect = QRectF(0, 0, width * scale, height * scale)
        rect.moveCenter(room.center())
        return rect

    def to_view(self, point: Point) -> QPointF:
        rect = self.output_rect()
        return QPointF(rect.x() + point[0] * rect.width(), rect.y() + point[1] * rect.height())

    def to_output(self, position: QPointF) -> Point:
        rect = self.output_rect()
        return (position.x() - rect.x()) / rect.width(), (position.y() - rect.y()) / rect.height()

    def paintEvent(self, event: QPaintEvent) -> None:
        model = self.editor.model
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor(theme.PANEL))
        rect = self.output_rect()
        painter.fillRect(rect, Qt.GlobalColor.black)
        if not self.image.isNull():
            painter.drawImage(rect, self.image)
        painter.setPen(QPen(QColor(theme.MUTED), 1, Qt.PenStyle.DotLine))
        painter.drawRect(rect)  # the output's raster
        handles = [self.to_view(p) for p in model.handles()]
        accent = QColor(theme.ACCENT)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(accent, 1.5))
        painter.drawPolygon([self.to_view(p) for p in model.mapping.corners])  # the pinned area
        if model.mode == "mesh":
            mesh = model.mesh()
            for row in range(mesh.rows):
                painter.drawPolyline(handles[row * mesh.columns:(row + 1) * mesh.columns])
            for column in range(mesh.columns):
                painter.drawPolyline(handles[column::mesh.columns])
        for index, mask in enumerate(model.mapping.masks):
            selected = index == model.selected_mask and model.mode == "mask"
            painter.setPen(QPen(QColor(theme.WARN), 2.0 if selected else 1.0,
                                Qt.PenStyle.DashLine if mask.invert else Qt.PenStyle.SolidLine))
            painter.drawPolygon([self.to_view(p) for p in mask.points])
        if model.draft:
            painter.setPen(QPen(QColor(theme.WARN), 1.5, Qt.PenStyle.DotLine))
            draft = [self.to_view(p) for p in model.draft]
            painter.drawPolyline(draft)
            for point in draft:
                painter.drawEllipse(point, 3, 3)
        for index, point in enumerate(handles):
            selected = index == model.selected
            painter.setPen(QPen(QColor(theme.TEXT if selected else theme.BACKGROUND), 1.5))
            painter.setBrush(QColor(theme.WARN) if selected else accent)
            radius = HANDLE_RADIUS if selected or model.mode != "mesh" else HANDLE_RADIUS - 2
            painter.drawEllipse(point, radius, radius)
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            rect = self.output_rect()
            self.editor.mouse_down(self.to_output(event.position()), (rect.width(), rect.height()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self.editor.mouse_drag(self.to_output(event.position()))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.editor.mouse_up()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self.editor.key(event.key(), event.modifiers()):
            super().keyPressEvent(event)


def _spin(minimum: float, maximum: float, step: float, decimals: int = 3) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(minimum, maximum)
    spin.setSingleStep(step)
    spin.setDecimals(decimals)
    spin.setKeyboardTracking(False)  # one edit when the typing is done, not one per digit
    return spin


class MappingEditor(QWidget):
    """The Mapping tab: output picker, modes, patterns, the view, the mapping's numbers."""

    def __init__(self, venue: Venue, hooks: EditorHooks) -> None:
        super().__init__()
        self.hooks = hooks
        self.model = MappingEditModel(venue, hooks.set_mapping)
        self.pattern: str | None = None  # shown on every output while this tab is open
        self.editing = False
        self._showing = False  # set while the spin boxes are filled in: their signals are not edits
        self._outputs: list[QWidget] = []  # each output window's view widget, by index

        self.picker = QComboBox()
        self.picker.currentIndexChanged.connect(self._pick_output)
        self.mode_buttons = QButtonGroup(self)
        top = QHBoxLayout()
        top.addWidget(QLabel("Output"))
        top.addWidget(self.picker, 1)
        for mode in MODES:
            button = QPushButton(MODE_LABELS[mode])
            button.setCheckable(True)
            button.setChecked(mode == self.model.mode)
            button.clicked.connect(lambda _checked=False, m=mode: self.set_mode(m))
            self.mode_buttons.addButton(button)
            top.addWidget(button)
        patterns = QHBoxLayout()
        patterns.addWidget(QLabel("Test pattern"))
        self.pattern_buttons: dict[str | None, QPushButton] = {}
        for pattern, key, label in (*PATTERN_KEYS, (None, "0", "Off")):
            button = QPushButton(f"{key}  {label}")
            button.setCheckable(True)
            button.clicked.connect(lambda _checked=False, p=pattern: self.set_pattern(p))
            self.pattern_buttons[pattern] = button
            patterns.addWidget(button)
        patterns.addStretch(1)

        self.canvas = MappingCanvas(self)
        self.hint = QLabel()
        self.hint.setObjectName("muted")
        self.hint.setWordWrap(True)

        self.edges: dict[tuple[str, str], QDoubleSpinBox] = {}
        blend = QGridLayout()
        for column, title in enumerate(("", "width", "curve", "gamma"), start=0):
            blend.addWidget(QLabel(title), 0, column)
        for row, edge in enumerate(EDGES, start=1):
            blend.addWidget(QLabel(edge), row, 0)
            spins = (("width", _spin(0, 0.5, 0.005, 4)), ("curve", _spin(0.5, 8, 0.1, 2)),
                     ("gamma", _spin(1, 3, 0.05, 2)))
            for column, (field, spin) in enumerate(spins, start=1):
                spin.valueChanged.connect(lambda value, e=edge, f=field: self._edit(
                    lambda: self.model.set_edge(e, **{f: value})))
                self.edges[edge, field] = spin
                blend.addWidget(spin, row, column)
        self.black_lift = _spin(0, 0.5, 0.005, 3)
        self.black_lift.valueChanged.connect(lambda value: self._edit(lambda: self.model.set_black_lift(value)))
        blend.addWidget(QLabel("black lift"), len(EDGES) + 1, 0)
        blend.addWidget(self.black_lift, len(EDGES) + 1, 1)

        color = QGridLayout()
        self.brightness = _spin(-1, 1, 0.01, 3)
        self.contrast = _spin(0, 4, 0.01, 3)
        self.gains = [_spin(0, 4, 0.01, 3) for _ in range(3)]
        self.brightness.valueChanged.connect(lambda v: self._edit(lambda: self.model.set_color(brightness=v)))
        self.contrast.valueChanged.connect(lambda v: self._edit(lambda: self.model.set_color(contrast=v)))
        for spin in self.gains:
            spin.valueChanged.connect(lambda _v: self._edit(
                lambda: self.model.set_color(gain=tuple(s.value() for s in self.gains))))
        for row, (label, spin) in enumerate((("brightness", self.brightness), ("contrast", self.contrast),
                                             *zip(("gain red", "gain green", "gain blue"), self.gains,
                                                  strict=True))):
            color.addWidget(QLabel(label), row, 0)
            color.addWidget(spin, row, 1)

        shape = QGridLayout()
        self.columns, self.rows = QSpinBox(), QSpinBox()
        for row, (label, count) in enumerate((("mesh columns", self.columns), ("mesh rows", self.rows))):
            count.setRange(2, MAX_MESH)
            count.setKeyboardTracking(False)
            count.valueChanged.connect(lambda _v: self._edit(
                lambda: self.model.set_mesh_size(self.columns.value(), self.rows.value())))
            shape.addWidget(QLabel(label), row, 0)
            shape.addWidget(count, row, 1)
        self.feather = _spin(0, 0.5, 0.005, 3)
        self.feather.valueChanged.connect(lambda v: self._edit(lambda: self.model.set_feather(v)))
        shape.addWidget(QLabel("mask feather"), 2, 0)
        shape.addWidget(self.feather, 2, 1)
        self.close_mask = QPushButton("Close mask (Enter)")
        self.invert = QPushButton("Invert mask (I)")
        self.delete_mask = QPushButton("Delete mask (Del)")
        for index, (button, action) in enumerate(((self.close_mask, self.model.close_mask),
                                                  (self.invert, self.model.toggle_invert),
                                                  (self.delete_mask, self.model.delete_mask))):
            button.clicked.connect(lambda _checked=False, a=action: self._edit(a))
            shape.addWidget(button, 3 + index, 0, 1, 2)

        numbers = QHBoxLayout()
        for title, grid in (("Blend", blend), ("Colour", color), ("Mesh and masks", shape)):
            box = QGroupBox(title)
            box.setLayout(grid)
            numbers.addWidget(box)

        self.undo_button = QPushButton("Undo")
        self.redo_button = QPushButton("Redo")
        self.save_button = QPushButton("Save venue")
        self.state = QLabel()
        self.undo_button.clicked.connect(self.undo)
        self.redo_button.clicked.connect(self.redo)
        self.save_button.clicked.connect(self.save)
        bottom = QHBoxLayout()
        bottom.addWidget(self.state, 1)
        for button in (self.undo_button, self.redo_button, self.save_button):
            bottom.addWidget(button)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(patterns)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.hint)
        layout.addLayout(numbers)
        layout.addLayout(bottom)

        self.preview_timer = QTimer(self)
        self.preview_timer.setInterval(PREVIEW_MS)
        self.preview_timer.timeout.connect(self.refresh_preview)
        self._fill_picker()
        self._show_values()

    # -- the app around it ------------------------------------------------------------------
    def attach_outputs(self, widgets: Sequence[QWidget]) -> None:
        """Let the mouse on each output window's view (in venue order) move handles too."""
        self._outputs = list(widgets)
        for widget in self._outputs:
            widget.installEventFilter(self)
        self._show_editing()

    def show_venue(self, venue: Venue) -> None:
        """The venue changed from outside (file reloaded, OSC): show its values."""
        if venue == self.model.venue:
            return
        names = [o.name for o in self.model.venue.outputs]
        self.model.replace_venue(venue)
        if names != [o.name for o in venue.outputs]:
            self._fill_picker()
        self._show_cursor()  # patterns stay as they are: a reload is not the operator leaving the editor
        self._changed()

    def output_size(self) -> tuple[int, int]:
        width, height = self.hooks.output_size(self.model.index)
        return max(1, width), max(1, height)

    def refresh_preview(self) -> None:
        if not self.editing:
            return  # a read-back of the output costs a frame's worth of GPU time: only while shown
        width = min(PREVIEW_MAX_WIDTH, max(64, round(self.canvas.output_rect().width())))
        self.canvas.image = self.hooks.preview(self.model.index, width)
        self.canvas.update()

    # -- showing and hiding the tab ---------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        # a minimised control window is not the operator leaving the editor
        if not event.spontaneous():
            self.editing = True
            self._show_editing()
            self.preview_timer.start()
            self.refresh_preview()
            self.canvas.setFocus()  # the pattern and nudge keys work at once

    def hideEvent(self, event: QHideEvent) -> None:
        if not event.spontaneous():
            self.editing = False
            self._show_editing()
            self.preview_timer.stop()

    def _show_editing(self) -> None:
        """The pattern on every output (aligning two projectors is making their grids meet in the
        overlap) and a cross cursor on the selected one's window, while editing only."""
        for output in self.model.venue.outputs:
            self.hooks.set_pattern(output.name, self.pattern if self.editing else None)
        self._show_cursor()

    def _show_cursor(self) -> None:
        for index, widget in enumerate(self._outputs):
            if self.editing and index == self.model.index:
                widget.setCursor(Qt.CursorShape.CrossCursor)
            else:
                widget.unsetCursor()  # the output window's own: blank

    # -- what the operator does -------------------------------------------------------------
    def set_pattern(self, pattern: str | None) -> None:
        self.pattern = pattern
        self._show_editing()
        self._changed()

    def set_mode(self, mode: Mode) -> None:
        self.model.set_mode(mode)
        self._changed()

    def _pick_output(self, index: int) -> None:
        if index < 0:
            return
        self.model.select_output(self.model.venue.outputs[index].name)
        self._show_editing()
        self._changed()
        self.refresh_preview()

    def mouse_down(self, point: Point, size: tuple[float, float]) -> None:
        """The mouse went down at ``point`` of the output, shown ``size`` pixels large."""
        model = self.model
        handle = model.hit(point, HANDLE_RADIUS + 3, size)
        if handle is not None:
            model.begin_drag(handle, point)
        elif model.mode == "mask":
            first = model.draft[0] if model.draft else None
            near_first = first is not None and ((first[0] - point[0]) * size[0]) ** 2 + (
                (first[1] - point[1]) * size[1]) ** 2 <= (HANDLE_RADIUS + 3) ** 2
            if len(model.draft) >= 3 and near_first:  # a click on the first point closes the outline
                model.close_mask()
            else:
                model.add_mask_point(point)
        else:
            model.select(None)
        self.canvas.setFocus()
        self._changed()

    def mouse_drag(self, point: Point) -> None:
        if self.model.dragging and self.model.drag_to(point):
            self.canvas.update()  # the numbers and the preview follow when the drag ends

    def mouse_up(self) -> None:
        if self.model.dragging:
            self.model.end_drag()
            self._changed()

    def key(self, key: int, modifiers: Qt.KeyboardModifier) -> bool:
        """A key on the view; False if it is not one of the editor's."""
        step = 10 if modifiers & Qt.KeyboardModifier.ShiftModifier else 1
        arrows = {int(Qt.Key.Key_Left): (-step, 0), int(Qt.Key.Key_Right): (step, 0),
                  int(Qt.Key.Key_Up): (0, -step), int(Qt.Key.Key_Down): (0, step)}
        patterns: dict[int, str | None] = {int(Qt.Key.Key_0): None}
        patterns.update({ord(k): pattern for pattern, k, _ in PATTERN_KEYS})  # Qt's digit keys are their ASCII codes
        key = int(key)
        if key in arrows:
            self._edit(lambda: self.model.nudge(*arrows[key], self.output_size()))
        elif key in patterns:
            self.set_pattern(patterns[key])
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._edit(self.model.close_mask)
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self._edit(self.model.delete_mask)
        elif key == Qt.Key.Key_I:
            self._edit(self.model.toggle_invert)
        else:
            return False
        return True

    def undo(self) -> None:
        self._edit(self.model.undo)

    def redo(self) -> None:
        self._edit(self.model.redo)

    def save(self) -> Path | None:
        path = self.hooks.save()
        if path is not None:
            self.model.mark_saved()
        self._changed()
        return path

    def _edit(self, action: Callable[[], object]) -> None:
        if not self._showing:
            action()
            self._changed()

    # -- showing the model ------------------------------------------------------------------
    def _changed(self) -> None:
        self._show_values()
        self.canvas.update()
        QTimer.singleShot(60, self.refresh_preview)  # the output has drawn the edit by then

    def _fill_picker(self) -> None:
        self.picker.blockSignals(True)
        self.picker.clear()
        self.picker.addItems([o.name for o in self.model.venue.outputs])
        self.picker.setCurrentIndex(self.model.index)
        self.picker.blockSignals(False)

    def _show_values(self) -> None:
        model, mapping = self.model, self.model.mapping
        self._showing = True
        try:
            self.picker.setCurrentIndex(model.index)
            for (edge, field), spin in self.edges.items():
                spin.setValue(getattr(mapping.blend.edge(edge), field))
            self.black_lift.setValue(mapping.blend.black_lift)
            self.brightness.setValue(mapping.color.brightness)
            self.contrast.setValue(mapping.color.contrast)
            for spin, gain in zip(self.gains, mapping.color.gain, strict=True):
                spin.setValue(gain)
            mesh = model.mesh()
            self.columns.setValue(mesh.columns)
            self.rows.setValue(mesh.rows)
            mask = mapping.masks[model.selected_mask] if model.selected_mask is not None else None
            self.feather.setValue(mask.feather if mask else 0.0)
        finally:
            self._showing = False
        for button in self.mode_buttons.buttons():
            button.setChecked(button.text() == MODE_LABELS[model.mode])
        for pattern, button in self.pattern_buttons.items():
            button.setChecked(pattern == self.pattern)
        self.feather.setEnabled(mask is not None)
        self.invert.setEnabled(mask is not None)
        self.delete_mask.setEnabled(mask is not None)
        self.close_mask.setEnabled(len(model.draft) >= 3)
        self.undo_button.setEnabled(model.can_undo)
        self.redo_button.setEnabled(model.can_redo)
        self.state.setText(f"{model.venue.title or model.venue.name}{' ●  unsaved' if model.unsaved else ''}")
        self.hint.setText({
            "pin": "Drag a corner here or on the projector; arrow keys nudge it 1 px (Shift: 10).",
            "mesh": "Drag a mesh point to fit an uneven wall; arrow keys nudge it 1 px (Shift: 10).",
            "mask": "Click the corners of a mask, then click its first point or press Enter. Drag its points "
                    "to adjust; I inverts, Del deletes.",
        }[model.mode])

    # -- the mouse on an output window ------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not self.editing or watched not in self._outputs:
            return False
        kind = event.type()
        if kind not in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.MouseButtonRelease):
            return False
        assert isinstance(event, QMouseEvent) and isinstance(watched, QWidget)
        size = (max(1, watched.width()), max(1, watched.height()))
        point = (event.position().x() / size[0], event.position().y() / size[1])
        if kind == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton:
            index = self._outputs.index(watched)
            if index != self.model.index:
                self.picker.setCurrentIndex(index)  # the mouse on a projector edits that projector
            self.mouse_down(point, size)
        elif kind == QEvent.Type.MouseMove:
            self.mouse_drag(point)
        elif kind == QEvent.Type.MouseButtonRelease:
            self.mouse_up()
        return True
