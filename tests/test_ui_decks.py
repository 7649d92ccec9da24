"""The deck strip on Xvfb: load the off-air deck, move the fader, and what it shows, against a real engine."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from installation.core.commands import CROSSFADER
from installation.core.decks import Deck
from installation.core.events import ParamInput
from installation.engine import Engine
from installation.registry import build_bank
from tests.appkit import pump

B = "elara-3-confrontation"


def test_the_strip_loads_the_off_air_deck_moves_the_fader_and_shows_both(qt_session: object, tmp_path: Path) -> None:
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QApplication

    from installation.ui import theme
    from installation.ui.decks import DeckStrip

    theme.apply(QApplication.instance())  # type: ignore[arg-type]

    engine = Engine.for_show("kai-festival", bank=build_bank())
    strip = DeckStrip(engine.presets.names(), engine.inputs.put,
                      lambda name, value: engine.inputs.put(ParamInput(name, value, "ui")))
    strip.resize(520, 70)
    strip.show()
    try:
        strip.refresh(engine.decks)
        assert strip.load.isEnabled() and strip.load.text() == "Load into B"
        assert strip.labels[Deck.A].text() == f"A: {engine.preset.title}"
        strip.choice.setCurrentText(B)
        strip.load.click()
        engine.step()
        assert engine.decks.presets[Deck.B].name == B
        strip.fader.setValue(500)  # as a drag would
        engine.step()
        assert engine.bank.number(CROSSFADER) == 0.5 and engine.look_mix() == ("festival", "mural", 0.5)
        strip.refresh(engine.decks)
        title_b = engine.decks.presets[Deck.B].title
        assert strip.labels[Deck.B].text() == f"B: {title_b}"
        assert not strip.load.isEnabled() and strip.load.text() == "Both decks on air"
        engine.inputs.put(ParamInput(CROSSFADER, 1.0, "midi"))  # moved elsewhere: the strip follows
        engine.step()
        strip.refresh(engine.decks)
        assert strip.fader.value() == 1000 and strip.load.text() == "Load into A"
        assert "font-weight: bold" in strip.labels[Deck.B].styleSheet()
        assert "font-weight" not in strip.labels[Deck.A].styleSheet()
        pump(0.3)
        shot = strip.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
        path = Path(os.environ.get("MYCO_SCREENSHOTS", tmp_path)) / "deck_strip.png"
        shot.save(str(path))
        pixels = np.frombuffer(shot.constBits(), np.uint8).reshape(shot.height(), shot.bytesPerLine())
        assert pixels[:, : shot.width() * 3].std() > 10, "the strip is drawn"
    finally:
        strip.close()
        strip.deleteLater()


def test_the_control_window_holds_the_strip_and_it_fades_the_running_app(qt_session: object, tmp_path: Path,
                                                                         monkeypatch: object) -> None:
    from PySide6.QtGui import QImage

    from tests.appkit import pixels, start_app, stop_app

    monkeypatch.setenv("MYCO_HOME", str(tmp_path / "home"))  # type: ignore[attr-defined]
    app = start_app()
    try:
        assert pump(30, lambda: app.runtime.clock.frames >= 3), "no output frame within 30 s"
        strip = app.decks
        assert strip.isVisible() and strip.window() is app.control
        strip.choice.setCurrentText(B)
        strip.load.click()
        assert pump(5, lambda: app.runtime.engine.decks.presets[Deck.B].name == B)
        festival = pixels(app)
        strip.fader.setValue(1000)
        assert pump(10, lambda: app.runtime.engine.current_preset().name == B), "the fade reached deck B"
        assert pump(10, lambda: strip.load.text() == "Load into A"), "the strip follows"
        assert app.runtime.engine.look_mix() == ("mural", "mural", 1.0)
        pump(1.0)
        assert np.abs(pixels(app) - festival).mean() > 5, "the output shows deck B's look"
        shot = app.control.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
        shot.save(str(Path(os.environ.get("MYCO_SCREENSHOTS", tmp_path)) / "control_with_decks.png"))
    finally:
        stop_app(app)
