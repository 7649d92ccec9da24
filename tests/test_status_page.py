"""The remote page at ``/`` in a real headless Chromium, against a real runtime and its status server.

The runtime runs without windows (its visuals drawn offscreen for ``/preview.png``, as
``--headless`` does) and is driven from this thread between the browser's steps, so a click
on the page goes through the endpoint and the engine's one dispatcher like any command.

The test keeps a screenshot of the page in its temporary folder; to refresh the one in the
docs, run it with ``MYCO_SCREENSHOT_DIR=docs/images`` (it writes ``remote-page.png`` there).
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from installation.app.compose import build_runtime
from installation.app.options import RunOptions
from installation.app.runtime import Runtime
from installation.app.status import CONTROL_COMMANDS
from tests.services import require

TOKEN = "venue-token-7"
CHROMEDRIVER = "/usr/bin/chromedriver"  # Debian's, never one Selenium would download


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Chromium through Debian's chromedriver (given explicitly: Selenium never downloads one)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not Path(CHROMEDRIVER).is_file():
        pytest.fail(f"{CHROMEDRIVER} is not installed (run `make test`, which installs chromium-driver)", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = require("chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=420,1400", "--force-device-scale-factor=1", "--no-first-run"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


class Show:
    """A runtime with its status server and offscreen visuals, ticked on demand."""

    def __init__(self, runtime: Runtime) -> None:
        from installation.app.headless import HeadlessOutput

        self.runtime = runtime
        self.output = HeadlessOutput(runtime)

    def run(self, seconds: float, until: Callable[[], bool] | None = None) -> bool:
        """Tick the engine (and draw) for up to ``seconds``, stopping once ``until`` holds."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.perf_counter()
            frames = self.runtime.tick()
            if self.output.show(frames, time.monotonic()):
                self.runtime.clock.frame_done(time.perf_counter() - started)
            if until is not None and until():
                return True
            time.sleep(0.01)
        return until is None


@pytest.fixture
def show(qt_session: object) -> Iterator[Show]:
    # the offscreen visuals in this process, on the test X server (as the headless output's own test)
    runtime = build_runtime(RunOptions(headless=True, audio=False, status="127.0.0.1:0",
                                       status_token=TOKEN, headless_size=(320, 180))).start()
    running = Show(runtime)
    try:
        yield running
    finally:
        running.output.close()
        runtime.stop()


def save_screenshot(driver: Any, folder: Path) -> Path:
    """The page as a phone shows it, for the docs: a palette PNG, small in the repository."""
    from PIL import Image

    path = folder / "remote-page.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    picture = Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("RGB")
    picture.quantize(colors=96, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    return path


def text(driver: Any, element: str) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.ID, element).text)


def test_the_page_shows_the_show_and_its_blackout_goes_through(browser: Any, show: Show, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    runtime = show.runtime
    server = runtime.status_server
    assert server is not None
    assert show.run(3.0, lambda: server._preview is not None)
    # a link with the token stores it in the browser and drops it from the address
    browser.get(server.url + f"/?token={TOKEN}")
    act = runtime.engine.player.act.title
    assert show.run(15.0, lambda: text(browser, "act").startswith(act)), text(browser, "message")
    assert "?token" not in browser.current_url
    assert text(browser, "show") == runtime.engine.player.show.title
    assert text(browser, "preset") == runtime.engine.current_preset().name
    assert show.run(10.0, lambda: browser.execute_script(
        "const img = document.getElementById('preview'); return img.complete && img.naturalWidth > 0;"))
    # open now / close now where the app has those commands; the opening hours where /status has them
    assert browser.find_element(By.ID, "close-now").is_displayed() == ("close_now" in CONTROL_COMMANDS)
    if "schedule" in runtime.status:
        assert text(browser, "venue").startswith(("Open", "Closed"))
    options = [o.get_attribute("value") for o in browser.find_elements(By.CSS_SELECTOR, "#presets option")]
    assert runtime.engine.current_preset().name in options

    runtime.engine.report("projector 2 is too warm")  # the operator log's newest line, on the page
    assert show.run(10.0, lambda: "projector 2 is too warm" in text(browser, "log"))
    assert show.run(5.0, lambda: text(browser, "errors").startswith("1 "))
    shot = save_screenshot(browser, Path(os.environ.get("MYCO_SCREENSHOT_DIR") or tmp_path))
    with Image.open(shot) as picture:
        assert picture.width >= 320 and picture.convert("L").getextrema()[1] > 200  # drawn, not blank

    assert runtime.engine.bank.target("render.blackout") == 0.0
    browser.find_element(By.ID, "blackout-on").click()
    assert show.run(10.0, lambda: runtime.engine.bank.target("render.blackout") == 1.0), text(browser, "message")
    assert show.run(5.0, lambda: text(browser, "message").startswith("Sent: blackout on"))
    assert show.run(10.0, lambda: text(browser, "blackout") == "on")

    browser.find_element(By.ID, "blackout-off").click()
    assert show.run(10.0, lambda: runtime.engine.bank.target("render.blackout") == 0.0)
    index = runtime.engine.player.act_index
    browser.find_element(By.ID, "next-act").click()
    assert show.run(10.0, lambda: runtime.engine.player.act_index == index + 1)

    # a wrong token: the page says so, and nothing it sends goes through
    field = browser.find_element(By.ID, "token")
    field.clear()
    field.send_keys("not-the-token")
    browser.find_element(By.ID, "save-token").click()
    assert show.run(10.0, lambda: "(401)" in text(browser, "message")), text(browser, "message")
    assert text(browser, "connection") == "refused"
    browser.find_element(By.ID, "blackout-on").click()
    assert show.run(3.0, lambda: "Wrong or missing token (401)" in text(browser, "message"))
    show.run(0.5)
    assert runtime.engine.bank.target("render.blackout") == 0.0
    assert server.refused >= 2


@pytest.fixture
def room(qt_session: object, tmp_path: Path) -> Iterator[tuple[Show, Any]]:
    """A runtime on a venue open all week, with one projector: a PJLink emulator with a lamp error."""
    from tests.pjlink_emulator import PJLinkEmulator, ProjectorModel

    emulator = PJLinkEmulator(ProjectorModel(lamp_hours=4321, errors="020000")).start()
    days = "\n".join(f'{day} = [["00:00", "24:00"]]' for day in
                     ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
    venue = tmp_path / "room.toml"
    venue.write_text(f'[venue]\ntitle = "Room"\n\n[[output]]\nname = "wall"\n\n[schedule]\ntimezone = "UTC"\n{days}\n'
                     f'closing = {{ fade = 1.0 }}\n\n[[projector]]\nname = "wall"\nhost = "127.0.0.1"\n'
                     f"port = {emulator.port}\nlead = 0.0\n")
    runtime = build_runtime(RunOptions(headless=True, audio=False, status="127.0.0.1:0", status_token=TOKEN,
                                       headless_size=(320, 180), venue=str(venue))).start()
    running = Show(runtime)
    try:
        yield running, emulator
    finally:
        running.output.close()
        runtime.stop()
        emulator.stop()


def test_the_page_shows_the_opening_hours_and_the_projectors_and_closes_the_room(
        browser: Any, room: tuple[Show, Any]) -> None:
    from selenium.webdriver.common.by import By

    show, emulator = room
    runtime = show.runtime
    assert runtime.status_server is not None
    browser.get(runtime.status_server.url + f"/?token={TOKEN}")
    assert show.run(15.0, lambda: text(browser, "venue").startswith("Open")), text(browser, "message")
    # the projector was switched on for the open room; its lamp hours and lamp error are on the page
    assert show.run(20.0, lambda: text(browser, "projectors").startswith("wall: on")), text(browser, "projectors")
    assert "lamp 4321 h" in text(browser, "projectors") and "lamp error" in text(browser, "projectors")
    assert emulator.commands("POWR 1")

    browser.find_element(By.ID, "close-now").click()
    browser.switch_to.alert.accept()  # the page asks before closing the room
    assert show.run(10.0, lambda: not runtime.engine.hours.open), text(browser, "message")
    assert show.run(10.0, lambda: text(browser, "venue").startswith("Closed")), text(browser, "venue")
    assert show.run(5.0, lambda: runtime.engine.bank.target("render.blackout") == 1.0)
