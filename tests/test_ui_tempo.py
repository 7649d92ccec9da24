"""The tempo strip on Xvfb, against a real engine: taps at known moments, the choices, the reading."""

from __future__ import annotations

import time

import pytest

from installation.core.tempo import Source
from installation.engine import Engine
from installation.registry import build_bank
from tests.appkit import pump


class Moments:
    """The strip's clock: the moment each tap lands, set by the test."""

    def __init__(self) -> None:
        self.t = self.start = time.monotonic()  # after the engine's beat zero

    def __call__(self) -> float:
        return self.t


def test_taps_set_the_tempo_and_the_choices_become_parameters(qt_session: object) -> None:
    from PySide6.QtWidgets import QApplication

    from installation.core.events import ParamInput
    from installation.ui import theme
    from installation.ui.tempo_strip import TempoStrip

    theme.apply(QApplication.instance())  # type: ignore[arg-type]
    engine = Engine.for_show("kai-festival", bank=build_bank())
    moments = Moments()
    strip = TempoStrip(engine.tempo, lambda name, value: engine.inputs.put(ParamInput(name, value, "ui")), moments)
    strip.resize(620, 40)
    strip.show()
    try:
        for _ in range(4):  # 0.6 s apart: 100 BPM
            strip.tap.pressed.emit()
            moments.t += 0.6
        assert engine.tempo.bpm == pytest.approx(100.0) and engine.tempo.source is Source.TAP
        moments.t = moments.start + 1.8 + 0.3  # half a beat after the last tap (its beat is a whole one)
        beat = engine.tempo.beat_at(moments.t)
        strip.refresh("now")
        pump(0.05)
        whole = int(beat)
        assert beat - whole == pytest.approx(0.5)
        assert strip.reading.text() == f"100.0 BPM  tap  bar {whole // 4 + 1} · {whole % 4 + 1}"
        strip.follow.setCurrentText("link")
        strip.follow.activated.emit(strip.follow.currentIndex())
        strip.launch.setCurrentText("bar")
        strip.launch.activated.emit(strip.launch.currentIndex())
        engine.advance(2 * engine.dt)
        assert engine.bank.get("tempo.follow") == "link" and engine.bank.get("tempo.quantize") == "bar"
        assert engine.tempo.follow.value == "link"
        assert engine.bank.get("tempo.bpm") == pytest.approx(100.0)  # the tapped tempo, for MIDI, OSC, the panel
    finally:
        strip.close()
        strip.deleteLater()
        pump(0.05)
