"""The mapping editor on the real X server: mouse drags and keys on its view, against the
editor alone (hooks recorded) and against the whole app (the output's pixels measured)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest

from installation.core.mapping import Mapping
from installation.core.venue import default_venue
from installation.ui.mapping_editor import EditorHooks, MappingEditor
from tests.appkit import pump


class Recorder:
    """Hooks that remember what the editor asked of the app."""

    def __init__(self) -> None:
        self.mappings: list[tuple[str, Mapping]] = []
        self.patterns: list[tuple[str, str | None]] = []
        self.saves = 0

    def hooks(self) -> EditorHooks:
        def save() -> Path | None:
            self.saves += 1
            return Path("/nowhere/venue.toml")

        return EditorHooks(lambda name, mapping: self.mappings.append((name, mapping)),
                           lambda name, pattern: self.patterns.append((name, pattern)), save,
                           lambda index, width: QImage(), lambda index: (1920, 1080))


@pytest.fixture
def editor(qt_session: object) -> Iterator[tuple[MappingEditor, Recorder]]:
    recorder = Recorder()
    widget = MappingEditor(default_venue(2), recorder.hooks())
    widget.resize(900, 800)
    widget.show()
    pump(0.3)
    try:
        yield widget, recorder
    finally:
        widget.close()
        widget.deleteLater()
        pump(0.1)


def view_point(editor: MappingEditor, point: tuple[float, float]) -> QPoint:
    return editor.canvas.to_view(point).toPoint()


def drag(editor: MappingEditor, start: QPoint, end: QPoint, steps: int = 5) -> None:
    canvas = editor.canvas
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for step in range(1, steps + 1):
        QTest.mouseMove(canvas, start + (end - start) * step / steps)
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)


def test_a_corner_dragged_on_the_view_moves_by_the_mouse_and_is_one_undo_step(
        editor: tuple[MappingEditor, Recorder]) -> None:
    widget, recorder = editor
    assert recorder.patterns[-1] == ("output 1", None)  # no pattern until one is asked for
    rect = widget.canvas.output_rect()
    start = view_point(widget, (1.0, 1.0))
    drag(widget, start, start + QPoint(-60, -30))
    name, mapping = recorder.mappings[-1]
    assert name == "output 1"
    assert mapping.corners[2] == pytest.approx((1 - 60 / rect.width(), 1 - 30 / rect.height()), abs=1e-3)
    assert widget.model.can_undo and widget.undo_button.isEnabled()
    widget.undo()
    assert recorder.mappings[-1] == ("output 1", Mapping()) and not widget.model.can_undo


def test_keys_on_the_view_nudge_in_output_pixels_and_pick_patterns(editor: tuple[MappingEditor, Recorder]) -> None:
    widget, recorder = editor
    canvas = widget.canvas
    QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, view_point(widget, (0, 0)))
    assert widget.model.selected == 0
    QTest.keyClick(canvas, Qt.Key.Key_Right)
    QTest.keyClick(canvas, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    assert widget.model.mapping.corners[0] == pytest.approx((1 / 1920, 10 / 1080))
    QTest.keyClick(canvas, Qt.Key.Key_1)
    assert recorder.patterns[-1] == ("output 1", "grid") and widget.pattern_buttons["grid"].isChecked()
    widget.picker.setCurrentIndex(1)  # the pattern moves to the output picked
    assert recorder.patterns[-2:] == [("output 1", None), ("output 2", "grid")]
    QTest.keyClick(canvas, Qt.Key.Key_0)
    assert recorder.patterns[-1] == ("output 2", None)
    widget.hide()  # the tab left: every output shows the show again
    assert set(recorder.patterns[-2:]) == {("output 1", None), ("output 2", None)}


def test_a_mask_is_drawn_with_clicks_and_closed_on_its_first_point(editor: tuple[MappingEditor, Recorder]) -> None:
    widget, recorder = editor
    widget.set_mode("mask")
    outline = [(0.2, 0.2), (0.6, 0.2), (0.6, 0.7), (0.2, 0.7)]
    for point in [*outline, outline[0]]:
        QTest.mouseClick(widget.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         view_point(widget, point))
    masks = recorder.mappings[-1][1].masks
    assert len(masks) == 1 and np.allclose(masks[0].points, outline, atol=0.005)
    QTest.keyClick(widget.canvas, Qt.Key.Key_I)
    assert recorder.mappings[-1][1].masks[0].invert
    widget.feather.setValue(0.05)
    assert recorder.mappings[-1][1].masks[0].feather == 0.05
    widget.save()
    assert recorder.saves == 1 and not widget.model.unsaved
