"""``myco run --venue``: the real app on Xvfb with real GL, its outputs mapped as the venue file says,
following edits of the file (and keeping the last good mapping through a broken one), OSC
mapping edits from oscsend, and ``/preview.png?output=NAME``."""

from __future__ import annotations

import io
import os
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from installation.app.gui import DesktopApp
from installation.core.paths import resource_dir
from installation.core.venue import load_venue
from tests.appkit import pump, rgb_of, start_app, stop_app
from tests.test_osc_listener import oscsend
from tests.test_ui_screens import LEFT, RIGHT, two_projectors, xrandr  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("qt_session")
SHIPPED = resource_dir("presets") / "venues" / "two-projectors.toml"


@pytest.fixture
def venue_file(tmp_path: Path) -> Path:
    path = tmp_path / "gallery.toml"
    shutil.copy(SHIPPED, path)
    return path


@pytest.fixture
def app(venue_file: Path) -> Iterator[DesktopApp]:
    # a smaller canvas than the venue's 3600x1080: llvmpipe paints it on the test's two cores
    desktop = start_app(venue=str(venue_file), osc="127.0.0.1:0", status="127.0.0.1:0", canvas=(1200, 360))
    assert pump(20, lambda: desktop.runtime.clock.frames >= 2), "the world is not stepping"
    yield desktop
    stop_app(desktop)


def shown(desktop: DesktopApp, index: int) -> np.ndarray:
    """What output ``index`` shows now, as its window paints it."""
    from PySide6.QtGui import QImage

    drawn = desktop.runtime.clock.frames
    assert pump(10, lambda: desktop.runtime.clock.frames >= drawn + 1)
    return rgb_of(desktop.views[index].grab().convertToFormat(QImage.Format.Format_RGB888))


def fetch(url: str, tries: int = 5) -> bytes:
    """GET ``url`` from another thread while the app's event loop runs (it renders the reply),
    asking again after a 503 (a preview not ready yet), as the server's Retry-After says."""
    def get() -> bytes:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return bytes(reply.read())
    with ThreadPoolExecutor(1) as pool:
        for _ in range(tries):
            reply = pool.submit(get)
            assert pump(15, reply.done)
            error = reply.exception()
            if not (isinstance(error, urllib.error.HTTPError) and error.code == 503):
                return reply.result()
            error.close()
            pump(1)
        return reply.result()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    stamp = time.time() + 2  # a new mtime even on a coarse-grained filesystem clock
    os.utime(path, (stamp, stamp))


def test_the_outputs_show_their_regions_through_the_venue_s_blend(app: DesktopApp) -> None:
    assert [output["name"] for output in app.outputs_status()] == ["left", "right"]
    assert app.outputs_status()[1]["region"] == [0.46667, 0.0, 1.0, 1.0]
    app.set_pattern("left", "white")
    white = shown(app, 0)[:, :, 0]
    height, width = white.shape
    middle = white[height // 4: 3 * height // 4]
    # the right eighth ramps down (blend width 0.125); the rest is white, lifted black or not
    assert middle[:, width // 4: width // 2].min() >= 250
    assert middle[:, -3:].mean() < 60 and middle[:, int(width * 0.95)].mean() < 200
    app.set_pattern("left", None)
    assert shown(app, 0)[:, :, 0].std() > 3, "the picture again, not the pattern"


def test_an_edited_venue_file_is_followed_and_a_broken_one_keeps_the_last_good_mapping(
        app: DesktopApp, venue_file: Path) -> None:
    app.set_pattern("right", "white")
    mask = "[[output.mask]]\npoints = [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]\n\n"
    edit(venue_file, "[output.color]\n", mask + "[output.color]\n")
    assert pump(10, lambda: bool(app.venue.output("right").mapping.masks)), "the edit was not followed"
    masked = shown(app, 1)[:, :, 0]
    width = masked.shape[1]
    assert masked[:, : width // 2 - 4].max() <= 1, "left of the mask is black"
    assert masked[30:-30, width // 2 + 4: -30].min() >= 240, "inside it the white pattern"

    good = app.venue
    errors = app.runtime.errors.total
    edit(venue_file, "corners = [[0.0, 0.0], [0.99, 0.02], [1.0, 0.98], [0.0, 1.0]]",
         "corners = [[0.0, 0.0], [1.0, 1.0], [0.99, 0.02], [0.0, 1.0]]")  # a bow-tie
    assert pump(10, lambda: app.runtime.errors.total > errors), "the broken file was not reported"
    message = app.runtime.errors.last(1)[0].message
    line = next(n for n, text in enumerate(venue_file.read_text().splitlines(), 1) if "[1.0, 1.0], [0.99" in text)
    assert f"{venue_file}:{line}: output[1].pin.corners:" in message
    assert app.venue == good
    assert np.array_equal(shown(app, 1)[:, :, 0], masked), "the output keeps the last good mapping"


def test_mapping_edits_over_osc_from_oscsend(app: DesktopApp) -> None:
    port = app.runtime.part("osc").port
    oscsend(port, "/myco/output/left/corner/1", "ff", 0.9, 0.1)
    oscsend(port, "/myco/output/left/blend/right", "f", 0.2)
    oscsend(port, "/myco/output/nowhere/corner/1", "ff", 0.9, 0.1)  # no such output: counted, dropped
    assert pump(10, lambda: app.venue.output("left").mapping.blend.right.width == pytest.approx(0.2))
    assert app.venue.output("left").mapping.corners[1] == pytest.approx((0.9, 0.1))
    assert pump(5, lambda: app.runtime.venue_edits.rejected == 1)
    assert app.venue_unsaved
    oscsend(port, "/myco/venue/save", "")
    assert pump(10, lambda: not app.venue_unsaved)
    assert load_venue(app.venue.path).output("left").mapping.corners[1] == pytest.approx((0.9, 0.1))


def test_preview_of_one_output_over_http(app: DesktopApp) -> None:
    server = app.runtime.status_server
    assert server is not None
    app.set_pattern("right", "bars")  # green, magenta, red and blue: the right half of the bars
    image = np.asarray(Image.open(io.BytesIO(fetch(f"{server.url}/preview.png?output=right"))).convert("RGB"),
                       np.float64)
    window = app.output_size(1)
    assert abs(image.shape[1] / image.shape[0] - window[0] / window[1]) < 0.02, "the output's shape"
    top = image[image.shape[0] // 4]
    assert top[:, 0].max() > 150 and top[:, 2].max() > 150 and top[:, 1].min() < 60, "the colour bars"
    with pytest.raises(urllib.error.HTTPError) as refused:
        fetch(f"{server.url}/preview.png?output=nowhere")
    refused.value.close()
    assert refused.value.code == 404


@pytest.mark.usefixtures("two_projectors")
def test_an_output_whose_screen_is_lost_keeps_its_mapping_and_returns_with_it(tmp_path: Path) -> None:
    path = tmp_path / "room.toml"
    path.write_text(f"""[venue]
title = "Two monitors"

[[output]]
name = "wall"
screen = "{LEFT[0]}"
region = [0.0, 0.0, 0.6, 1.0]

[[output]]
name = "door"
screen = "{RIGHT[0]}"
fallback = "{LEFT[0]}"
region = [0.4, 0.0, 1.0, 1.0]

[output.pin]
corners = [[0.1, 0.05], [0.9, 0.0], [1.0, 1.0], [0.0, 0.95]]

[[output.mask]]
points = [[0.2, 0.2], [0.8, 0.2], [0.8, 0.8], [0.2, 0.8]]
feather = 0.05
""")
    app = start_app(venue=str(path))
    try:
        door = app.outputs.windows[1]
        assert pump(10, lambda: door.screen_name == RIGHT[0] and door.isFullScreen())
        app.set_pattern("door", "white")
        mapping = app.venue.output("door").mapping
        before = shown(app, 1)
        assert before[:, :, 0].max() == 255 and before[5, 5, 0] == 0, "the masked white pattern"

        xrandr("--delmonitor", RIGHT[0])  # the door's projector is unplugged
        assert pump(10, lambda: door.screen_name == LEFT[0]), "to its fallback screen"
        assert door.isVisible() and app.venue.output("door").mapping == mapping

        xrandr("--setmonitor", RIGHT[0], RIGHT[1], "none")  # and plugged back in
        assert pump(10, lambda: door.screen_name == RIGHT[0] and door.geometry().getRect() == (960, 0, 960, 1080))
        assert app.venue.output("door").mapping == mapping
        assert np.array_equal(shown(app, 1), before), "the same mapped picture as before"
    finally:
        stop_app(app)
