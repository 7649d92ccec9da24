"""Opening hours in the real app on Xvfb: the Close now action (Ctrl+Shift+O) closes the room now
(the picture fades to black, /status says closed until the next change) and Open now (Ctrl+O)
opens it again."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QKeySequence

from tests.appkit import pump, start_app, stop_app

pytestmark = pytest.mark.usefixtures("qt_session")
ALL_WEEK = "\n".join(f'{day} = [["00:00", "24:00"]]' for day in
                     ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))


def test_close_now_and_open_now_from_the_keyboard(tmp_path: Path) -> None:
    venue = tmp_path / "room.toml"
    venue.write_text(f'[venue]\ntitle = "Room"\n\n[[output]]\nname = "wall"\n\n[schedule]\ntimezone = "UTC"\n'
                     f"{ALL_WEEK}\nclosing = {{ fade = 0.5 }}\nopening = {{ fade = 0.5 }}\n")
    app = start_app(venue=str(venue))
    try:
        hours = app.runtime.engine.hours
        assert pump(10, lambda: app.runtime.clock.frames >= 2) and hours.open
        actions = app.control.actions_by_name
        assert actions["close_now"].shortcut() == QKeySequence("Ctrl+Shift+O")
        assert actions["open_now"].shortcut() == QKeySequence("Ctrl+O")
        actions["close_now"].trigger()  # as the shortcut does (Xvfb has no window manager to give focus)
        assert pump(10, lambda: not hours.open), "closed now"
        assert pump(10, lambda: app.runtime.engine.bank.number("render.blackout") > 0.99), "faded to black"
        status = app.runtime.build_status()["schedule"]
        assert status["open"] is False and status["override"]
        actions["open_now"].trigger()
        assert pump(10, lambda: hours.open), "open again"
        assert pump(10, lambda: app.runtime.engine.bank.number("render.blackout") < 0.01)
    finally:
        stop_app(app)
