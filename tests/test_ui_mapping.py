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

from installation.app.gui import DesktopApp
from installation.core.mapping import Mapping
from installation.core.venue import default_venue, load_venue
from installation.ui.mapping_editor import EditorHooks, MappingEditor
from tests.appkit import grab_all, pump, start_app, stop_app


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
    assert recorder.patterns[-2:] == [("output 1", None), ("output 2", None)]  # none until asked for
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
    QTest.keyClick(canvas, Qt.Key.Key_1)  # on every output: their grids meet in the overlap
    assert recorder.patterns[-2:] == [("output 1", "grid"), ("output 2", "grid")]
    assert widget.pattern_buttons["grid"].isChecked()
    widget.picker.setCurrentIndex(1)
    assert recorder.patterns[-2:] == [("output 1", "grid"), ("output 2", "grid")]
    QTest.keyClick(canvas, Qt.Key.Key_3)
    assert recorder.patterns[-1] == ("output 2", "blend")
    widget.hide()  # the tab left: every output shows the show again
    assert recorder.patterns[-2:] == [("output 1", None), ("output 2", None)]


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


# -- against the whole app: the venue's values and the output's pixels -----------------------

VENUE = """\
# A test wall: one projector.
[venue]
title = "Test wall"

[[output]]
name = "wall"
screen = 0
"""


@pytest.fixture
def app(qt_session: object, myco_home: Path) -> Iterator[DesktopApp]:
    path = myco_home / "wall.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(VENUE)
    desktop = start_app(venue=str(path), canvas=(480, 270))
    try:
        assert pump(30, lambda: desktop.runtime.clock.frames >= 3), "the world is not stepping"
        desktop.act("mapping")
        assert desktop.mapping_current()
        QTest.keyClick(desktop.mapping_editor.canvas, Qt.Key.Key_4)  # solid white: every pixel measurable
        yield desktop
    finally:
        stop_app(desktop)


def output(app: DesktopApp) -> np.ndarray:
    """The output window's picture, grey levels (height, width)."""
    return grab_all(app)[0].mean(axis=2)


def at(picture: np.ndarray, x: float, y: float) -> float:
    """The grey level around (x, y) in 0..1 of the picture."""
    height, width = picture.shape
    row, column = round(y * (height - 1)), round(x * (width - 1))
    return float(picture[max(0, row - 2):row + 3, max(0, column - 2):column + 3].mean())


def test_a_corner_drag_moves_the_output_and_undo_redo_restore_it(app: DesktopApp) -> None:
    editor = app.mapping_editor
    before = output(app)
    assert at(before, 0.1, 0.1) > 240 and at(before, 0.5, 0.5) > 240, "the white pattern fills the output"
    rect = editor.canvas.output_rect()
    start = view_point(editor, (0.0, 0.0))
    drag(editor, start, start + QPoint(round(rect.width() * 0.3), round(rect.height() * 0.3)))
    corner = app.venue.output("wall").mapping.corners[0]
    assert corner == pytest.approx((0.3, 0.3), abs=2 / rect.width())
    assert editor.model.venue == app.venue
    after = output(app)
    assert at(after, 0.1, 0.1) < 10, "the pinned picture left the top-left corner"
    assert at(after, 0.6, 0.6) > 240 and at(after, 0.9, 0.1) > 240
    app.act("undo")
    assert app.venue.output("wall").mapping == Mapping()
    assert at(output(app), 0.1, 0.1) > 240
    app.act("redo")
    assert app.venue.output("wall").mapping.corners[0] == corner


def test_arrow_keys_nudge_one_output_pixel_and_ten_with_shift(app: DesktopApp) -> None:
    editor = app.mapping_editor
    QTest.mouseClick(editor.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     view_point(editor, (1.0, 0.0)))
    width, height = app.output_size(0)
    QTest.keyClick(editor.canvas, Qt.Key.Key_Left)
    assert app.venue.output("wall").mapping.corners[1] == pytest.approx((1 - 1 / width, 0.0))
    QTest.keyClick(editor.canvas, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    assert app.venue.output("wall").mapping.corners[1] == pytest.approx((1 - 1 / width, 10 / height))
    picture = output(app)
    # the top edge now slopes down to the right by 10 pixels: the top-right pixels are black
    assert picture[:8, -3:].mean() < 20 and picture[:8, :3].mean() > 240
    app.act("undo")  # the nudges of one corner in a row are one step
    assert app.venue.output("wall").mapping == Mapping()


def test_a_mask_drawn_with_clicks_blacks_out_its_area_and_saves(app: DesktopApp, myco_home: Path) -> None:
    editor = app.mapping_editor
    editor.set_mode("mask")
    outline = [(0.25, 0.25), (0.75, 0.25), (0.75, 0.75), (0.25, 0.75)]
    for point in outline:
        QTest.mouseClick(editor.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         view_point(editor, point))
    QTest.keyClick(editor.canvas, Qt.Key.Key_Return)
    QTest.keyClick(editor.canvas, Qt.Key.Key_I)  # inverted: the mask hides what is inside it
    mask = app.venue.output("wall").mapping.masks[0]
    assert mask.invert and np.allclose(mask.points, outline, atol=0.005)
    picture = output(app)
    assert at(picture, 0.5, 0.5) < 10 and at(picture, 0.35, 0.65) < 10, "inside the mask is black"
    assert at(picture, 0.1, 0.5) > 240 and at(picture, 0.9, 0.9) > 240, "outside it the pattern shows"
    assert editor.model.unsaved
    app.act("save")  # Ctrl+S on the Mapping tab saves the venue
    assert not editor.model.unsaved and not app.venue_unsaved
    saved = load_venue(myco_home / "wall.toml")
    assert saved.output("wall").mapping.masks[0].invert
    assert np.allclose(saved.output("wall").mapping.masks[0].points, mask.points, atol=1e-5)
    assert "# A test wall: one projector." in (myco_home / "wall.toml").read_text()


def test_the_mouse_on_the_output_window_moves_handles_with_a_cross_cursor(app: DesktopApp) -> None:
    widget = app.outputs.windows[0].view.widget
    assert widget.cursor().shape() == Qt.CursorShape.CrossCursor
    width, height = widget.width(), widget.height()
    start, end = QPoint(width - 1, height - 1), QPoint(round(width * 0.8), round(height * 0.9))
    QTest.mousePress(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(widget, end)
    QTest.mouseRelease(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    corner = app.venue.output("wall").mapping.corners[2]
    assert corner == pytest.approx((1 - (width - 1 - end.x()) / width, 1 - (height - 1 - end.y()) / height),
                                   abs=1e-3)
    assert at(output(app), 0.95, 0.97) < 10
    app.control.tabs.setCurrentIndex(0)  # leaving the editor: the show again, and no cursor
    assert widget.cursor().shape() == Qt.CursorShape.BlankCursor
    assert output(app).mean() < 200, "the white pattern is off"


def test_ctrl_m_opens_the_editor_and_outside_edits_of_the_file_show_in_it(app: DesktopApp, myco_home: Path) -> None:
    editor = app.mapping_editor
    app.control.tabs.setCurrentIndex(0)
    action = app.control.actions_by_name["mapping"]
    assert action.shortcut().toString() == "Ctrl+M"
    action.trigger()
    assert app.mapping_current() and editor.editing
    QTest.mouseClick(editor.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     view_point(editor, (0.0, 1.0)))
    QTest.keyClick(editor.canvas, Qt.Key.Key_Up)
    assert editor.model.can_undo
    # the technician's colleague edits the file by hand: the app reloads it, the editor shows it
    (myco_home / "wall.toml").write_text(VENUE + "\n[output.blend]\nright = { width = 0.125 }\n")
    assert pump(10, lambda: editor.edges["right", "width"].value() == 0.125), "the editor missed the file's edit"
    assert editor.model.venue == app.venue and not editor.model.can_undo  # not an undo step of its own
    assert app.venue.output("wall").mapping.corners[3] == (0.0, 1.0)  # the file's values, not the nudge
