"""Output windows and screens: placement, a projector unplugged mid-show and plugged back.

Screens come and go for real: ``xrandr --setmonitor`` / ``--delmonitor`` on the Xvfb server
add and remove RandR monitors, which Qt reports as screens being connected and
disconnected. The windows here show the failsafe map view (no GL needed to test placement).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from installation.ui.placement import (
    OutputRequest,
    assign,
    default_canvas,
    requests_for,
    split_regions,
    window_size,
)
from tests.appkit import pump
from tests.services import require

LEFT = ("myco-left", "960/254x1080/286+0+0")
RIGHT = ("myco-right", "960/254x1080/286+960+0")


def xrandr(*args: str) -> None:
    subprocess.run([require("xrandr"), *args], check=True, capture_output=True, timeout=10)


@pytest.fixture
def two_projectors(qt_session: object) -> Iterator[None]:
    try:
        for name, geometry in (LEFT, RIGHT):
            xrandr("--setmonitor", name, geometry, "none")
        assert pump(5, lambda: {LEFT[0], RIGHT[0]} <= screen_names())
        yield
    finally:
        for name, _ in (LEFT, RIGHT):
            subprocess.run(["xrandr", "--delmonitor", name], capture_output=True, timeout=10)
        pump(5, lambda: not ({LEFT[0], RIGHT[0]} & screen_names()))


def screen_names() -> set[str]:
    from PySide6.QtGui import QGuiApplication

    return {screen.name() for screen in QGuiApplication.screens()}


def test_output_follows_its_projector_out_and_back(two_projectors: None) -> None:
    from PySide6.QtGui import QGuiApplication

    from installation.ui.output import OutputManager, OutputWindow
    from installation.ui.output_view import MapOutput

    screens = [screen.name() for screen in QGuiApplication.screens()]
    request = requests_for(screens, [screens.index(RIGHT[0])])[0]
    window = OutputWindow(MapOutput(lambda _: None), request, 0)
    manager = OutputManager([window], lambda: LEFT[0])
    try:
        manager.place_all()
        assert pump(3, lambda: window.geometry().getRect() == (960, 0, 960, 1080))
        assert window.screen_name == RIGHT[0] and window.isFullScreen()
        assert window.cursor().shape().name == "BlankCursor"

        xrandr("--delmonitor", RIGHT[0])  # the right projector is unplugged
        assert pump(5, lambda: window.screen_name not in ("", RIGHT[0]))
        assert window.isVisible(), "the output must never close"
        assert window.screen_name != LEFT[0], "it should not cover the control window's screen"
        moved_to = {s.name(): s for s in QGuiApplication.screens()}[window.screen_name]
        assert pump(3, lambda: window.geometry() == moved_to.geometry())

        xrandr("--setmonitor", RIGHT[0], RIGHT[1], "none")  # and plugged back in
        assert pump(5, lambda: window.screen_name == RIGHT[0])
        assert pump(3, lambda: window.geometry().getRect() == (960, 0, 960, 1080))
        assert window.isVisible() and window.isFullScreen() and manager.moves == 3
        window.close()  # what a window manager's close (Alt+F4) asks for
        assert window.isVisible(), "an output only closes with the app"
    finally:
        manager.close()
    assert not window.isVisible()


def test_two_outputs_show_their_own_regions(two_projectors: None) -> None:
    from PySide6.QtGui import QGuiApplication

    from installation.ui.output import OutputManager, OutputWindow
    from installation.ui.output_view import MapOutput

    screens = [screen.name() for screen in QGuiApplication.screens()]
    requests = requests_for(screens, [screens.index(LEFT[0]), screens.index(RIGHT[0])])
    windows = [OutputWindow(MapOutput(lambda _: None), request, i) for i, request in enumerate(requests)]
    manager = OutputManager(windows, lambda: "screen")
    try:
        manager.place_all()
        assert pump(3, lambda: [w.geometry().x() for w in windows] == [0, 960])
        assert [w.request.region for w in windows] == [(0.0, 0.0, 0.5, 1.0), (0.5, 0.0, 1.0, 1.0)]
    finally:
        manager.close()


def test_assign_prefers_the_wanted_screen_then_a_free_one() -> None:
    wanted = [OutputRequest("hdmi-2")]
    assert assign(["hdmi-1", "hdmi-2"], "hdmi-1", wanted) == [("hdmi-2", True)]
    # unplugged: moves to a free screen that is not the control window's
    assert assign(["hdmi-1", "dp-1"], "hdmi-1", wanted) == [("dp-1", True)]
    # only the control screen is left: share it, windowed, so the operator can still work
    assert assign(["hdmi-1"], "hdmi-1", wanted) == [("hdmi-1", False)]
    # no preference, one screen: windowed beside the control window; two: full screen on the other
    assert assign(["hdmi-1"], "hdmi-1", [OutputRequest(None)]) == [("hdmi-1", False)]
    assert assign(["hdmi-1", "hdmi-2"], "hdmi-1", [OutputRequest(None)]) == [("hdmi-2", True)]
    # asking for the control screen itself is honoured, full screen
    assert assign(["hdmi-1", "hdmi-2"], "hdmi-1", [OutputRequest("hdmi-1")]) == [("hdmi-1", True)]
    # two outputs, one projector gone: they do not pile onto the same screen while another is free
    two = [OutputRequest("a"), OutputRequest("b")]
    assert assign(["ctl", "a", "c"], "ctl", two) == [("a", True), ("c", True)]


def test_the_default_canvas_has_the_pixels_the_output_windows_show() -> None:
    two_projectors = [window_size((1920, 1080), True), window_size((1920, 1080), True)]
    assert default_canvas(two_projectors) == (3840, 1080)
    beside_the_control_window = window_size((1920, 1080), False)
    assert beside_the_control_window == (960, 540) and default_canvas([beside_the_control_window]) == (960, 540)
    assert default_canvas([(1920, 1080), (1280, 720)]) == (3840, 1080)  # equal shares: the larger sets them


def test_requests_name_the_screens_and_refuse_a_missing_one() -> None:
    assert requests_for(["a", "b", "c"], [2, 1]) == [OutputRequest("c", (0.0, 0.0, 0.5, 1.0)),
                                                   OutputRequest("b", (0.5, 0.0, 1.0, 1.0))]
    assert requests_for(["a"], []) == [OutputRequest(None)]
    with pytest.raises(ValueError, match=r"--output-screen 3: no such screen .*0: a"):
        requests_for(["a", "b"], [3])
    assert split_regions(3)[1] == pytest.approx((1 / 3, 0.0, 2 / 3, 1.0))


PLACEMENT_SCRIPT = """
import json, sys, time
from PySide6.QtWidgets import QApplication
from installation.ui.placement import requests_for
from installation.ui.output import OutputManager, OutputWindow
from installation.ui.output_view import MapOutput
app = QApplication([])
names = [s.name() for s in app.screens()]
requests = requests_for(names, [int(arg) for arg in sys.argv[1:]])
windows = [OutputWindow(MapOutput(lambda _: None), r, i) for i, r in enumerate(requests)]
manager = OutputManager(windows, lambda: names[0])
manager.place_all()
end = time.monotonic() + 1
while time.monotonic() < end:
    app.processEvents()
print(json.dumps([{"screen": w.screen().name(), "geometry": w.geometry().getRect(), "full": w.isFullScreen(),
                   "dpr": w.devicePixelRatio()} for w in windows]))
manager.close()
"""


def test_placement_on_hidpi_screens_with_qt_offscreen_screens(tmp_path: Path) -> None:
    """Qt's offscreen platform reports a JSON list of screens (docs/pitfalls.md): a projector at dpr 2."""
    config = tmp_path / "screens.json"
    config.write_text(json.dumps({"screens": [
        {"name": "control", "x": 0, "y": 0, "width": 1920, "height": 1080, "logicalDpi": 96,
         "logicalBaseDpi": 96, "dpr": 1},
        # 192 dpi over a base of 96: Qt scales by 2, so 1920x1080 pixels are 960x540 logical
        {"name": "projector-4k", "x": 1920, "y": 0, "width": 1920, "height": 1080, "logicalDpi": 192,
         "logicalBaseDpi": 96, "dpr": 1},
        {"name": "projector-side", "x": 3840, "y": 0, "width": 1280, "height": 800, "logicalDpi": 96,
         "logicalBaseDpi": 96, "dpr": 1}]}))
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}"}
    env.pop("DISPLAY", None)

    def place(*indices: str) -> list[dict[str, Any]]:
        result = subprocess.run([sys.executable, "-c", PLACEMENT_SCRIPT, *indices], env=env, capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]

    [hidpi] = place("1")
    assert hidpi == {"screen": "projector-4k", "geometry": [1920, 0, 960, 540], "full": True, "dpr": 2.0}
    wide = place("1", "2")
    assert [w["screen"] for w in wide] == ["projector-4k", "projector-side"]
    assert wide[1]["geometry"] == [3840, 0, 1280, 800] and wide[1]["dpr"] == 1.0
    [default] = place()  # no choice: the first screen that is not the control window's
    assert default["screen"] == "projector-4k" and default["full"] is True
