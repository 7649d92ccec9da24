"""The modulation matrix and the parameter panel's modulated marker on Xvfb, against a real engine."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from installation.core.events import RoutingsInput
from installation.core.modulation import Routing, Shape, Source, SourceKind
from installation.engine import Engine
from installation.registry import build_bank
from tests.appkit import pump, rgb_of

EXPOSURE = "render.exposure"  # linear 0.1 .. 4.0


def keep_shot(widget: object, name: str) -> None:
    """Save what the widget shows where MYCO_KEEP_SHOTS says, for a person to look at."""
    folder = os.environ.get("MYCO_KEEP_SHOTS")
    if folder:
        widget.grab().save(str(Path(folder) / name))  # type: ignore[attr-defined]


def engine_at_120() -> Engine:
    engine = Engine.for_show("elara-mural", bank=build_bank())
    engine.bank.set("tempo.bpm", 120.0, "ui")  # the default, said
    engine.on_world_time()  # beat 0 at t 0
    return engine


def test_the_matrix_adds_edits_and_removes_routings_through_the_engine(qt_session: object) -> None:
    from PySide6.QtWidgets import QApplication, QDoubleSpinBox

    from installation.ui import theme
    from installation.ui.modulation_matrix import ModulationMatrix

    theme.apply(QApplication.instance())  # type: ignore[arg-type]
    engine = engine_at_120()
    matrix = ModulationMatrix(engine.specs)
    matrix.changed.connect(lambda routings: engine.inputs.put(RoutingsInput(routings)))
    matrix.show()
    try:
        pump(0.2)
        assert matrix.target_box.findText(EXPOSURE) >= 0 and matrix.target_box.findText("render.tint") < 0
        matrix.source_box.setCurrentText("lfo")
        assert matrix.shape_box.isEnabled() and not matrix.cc_box.isEnabled()
        matrix.shape_box.setCurrentText("square")
        matrix.rate_box.setValue(1.0)
        matrix.target_box.setCurrentText(EXPOSURE)
        matrix.depth_box.setValue(0.3)
        add = next(button for button in matrix.findChildren(type(matrix.remove_button))
                   if button.text() == "Add routing")
        add.click()
        matrix.source_box.setCurrentText("network.activity")
        assert not matrix.shape_box.isEnabled()
        matrix.target_box.setCurrentText("synth.reverb_mix")
        matrix.depth_box.setValue(-0.2)
        add.click()
        engine.step()
        square = Source(SourceKind.LFO, shape=Shape.SQUARE, rate=1.0)
        activity = Source(SourceKind.NETWORK, "activity")
        assert engine.modulation.routings == (Routing(square, EXPOSURE, 0.3),
                                              Routing(activity, "synth.reverb_mix", -0.2))
        assert (matrix.table.rowCount(), matrix.table.columnCount()) == (2, 2)
        assert matrix.table.cellWidget(1, 0) is None  # activity does not move the exposure
        cell = matrix.table.cellWidget(0, 0)
        assert isinstance(cell, QDoubleSpinBox) and cell.value() == 0.3
        cell.setValue(0.5)  # the operator turns the depth up
        engine.advance(0.5)
        assert engine.modulation.routings[0].depth == 0.5
        matrix.show_routings(engine.modulation.routings)  # the engine caught up: nothing rebuilt
        assert matrix.table.cellWidget(0, 0) is cell
        matrix.show_values(engine.modulation.values)
        header = matrix.table.verticalHeaderItem(1)
        assert header is not None
        assert header.text() == f"network.activity   {engine.modulation.values[activity]:.2f}"
        pump(0.3)
        keep_shot(matrix, "matrix.png")
        matrix.table.setCurrentCell(1, 1)
        matrix.remove_button.click()
        engine.step()
        assert engine.modulation.routings == (Routing(square, EXPOSURE, 0.5),)
        assert (matrix.table.rowCount(), matrix.table.columnCount()) == (1, 1)
    finally:
        matrix.close()
        pump(0.1)


def test_the_panel_shows_the_base_and_a_marker_where_modulation_takes_it(qt_session: object) -> None:
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QApplication

    from installation.ui import theme
    from installation.ui.param_panel import SLIDER_STEPS, ModSlider, ParamPanel

    theme.apply(QApplication.instance())  # type: ignore[arg-type]
    engine = engine_at_120()
    engine.bank.set(EXPOSURE, 1.0, "ui", immediate=True)
    square = Source(SourceKind.LFO, shape=Shape.SQUARE, rate=1.0)
    engine.inputs.put(RoutingsInput((Routing(square, EXPOSURE, 0.5),)))
    while engine.tempo.beat_at(engine.t) < 2.1:  # the square is up in the first half of a beat
        engine.step()
    panel = ParamPanel(engine.bank)
    panel.filter.setText(EXPOSURE)
    panel.resize(640, 300)
    panel.show()
    try:
        panel.refresh()
        pump(0.3)
        row = panel.rows[EXPOSURE]
        slider = row.control
        assert isinstance(slider, ModSlider)
        base = (1.0 - 0.1) / 3.9
        assert slider.value() == round(base * SLIDER_STEPS)  # the slider stays on the base
        assert slider.modulated is not None and abs(slider.modulated - (base + 0.5)) < 1e-9
        assert row.value_label.text() == f"1 x → {0.1 + (base + 0.5) * 3.9:.3g} x"
        # the marker is drawn in the warning colour at the modulated position
        image = rgb_of(slider.grab().toImage().convertToFormat(QImage.Format.Format_RGB888))
        warn = np.array([0xE0, 0xA0, 0x40], np.float64)
        columns = np.nonzero((np.abs(image - warn).sum(axis=2) < 30).any(axis=0))[0]
        assert len(columns) > 0
        handle = 10  # the theme's handle width
        expected = handle / 2 + (base + 0.5) * (slider.width() - handle)
        assert abs(columns.mean() - expected) < 3, (columns, expected)
        keep_shot(panel, "panel.png")
        while engine.tempo.beat_at(engine.t) < 2.6:  # down: no modulation, no marker
            engine.step()
        panel.refresh()
        assert slider.modulated is None and row.value_label.text() == "1 x"
    finally:
        panel.close()
        pump(0.1)


def test_in_the_app_the_shortcut_opens_the_matrix_and_saving_keeps_its_routings(qt_session: object) -> None:
    from installation.core.presets import load_preset
    from tests.appkit import start_app, stop_app
    from tests.test_ui_drafts import answering

    desktop = start_app()
    try:
        assert pump(30, lambda: desktop.runtime.clock.frames >= 1), "no output frame within 30 s"
        action = desktop.control.actions_by_name["modulation"]
        assert action.shortcut().toString() == "Ctrl+Shift+M"
        action.trigger()
        assert pump(5, desktop.matrix.isVisible)
        matrix = desktop.matrix
        matrix.source_box.setCurrentText("envelope")
        matrix.event_box.setCurrentText("bloom")
        matrix.target_box.setCurrentText(EXPOSURE)
        matrix.depth_box.setValue(0.4)
        next(b for b in matrix.findChildren(type(matrix.remove_button)) if b.text() == "Add routing").click()
        engine = desktop.runtime.engine
        assert pump(5, lambda: len(engine.modulation.routings) == 1)
        assert pump(5, lambda: desktop.control.windowTitle().endswith(" *")), "the edit shows as unsaved"
        seen: list[str] = []
        stop = answering("Cancel", seen)  # quitting asks first: Cancel keeps the app open
        try:
            assert not desktop._may_close()
        finally:
            stop()
        assert seen
        before = engine.preset.name
        desktop.act("save")
        assert pump(10, lambda: (desktop.user.presets / f"{before}.toml").is_file())
        saved = load_preset(desktop.user.presets / f"{before}.toml")
        assert saved.modulation == (Routing(Source(SourceKind.ENVELOPE, "bloom"), EXPOSURE, 0.4),)
        assert pump(5, lambda: engine.modulation.routings == saved.modulation)  # the saved preset, recalled
        assert pump(5, lambda: not desktop.control.windowTitle().endswith(" *"))
        matrix.close()
    finally:
        stop_app(desktop)
