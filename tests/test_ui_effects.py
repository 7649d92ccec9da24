"""The control window's Effects tab: the ISF browser's thumbnails (rendered by a separate process
on the real GL stack) and the chain list driving the engine's real effect chain."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from installation.core.effects import EffectChain, isf_thumbnail_file
from installation.core.params import ParamBank
from installation.core.paths import UserDirs
from tests.appkit import pump

INVERT = """/*{ "ISFVSN": "2", "CATEGORIES": ["Color"], "CREDIT": "Myco tests",
  "INPUTS": [{"NAME": "inputImage", "TYPE": "image"}] }*/
void main() { gl_FragColor = vec4(1.0 - IMG_THIS_PIXEL(inputImage).rgb, 1.0); }
"""
RED = """/*{ "ISFVSN": "2", "CATEGORIES": ["Generator"], "INPUTS": [] }*/
void main() { gl_FragColor = vec4(1.0, 0.0, 0.0, 1.0); }
"""


def pixels(path: Path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB"), np.float64)


def test_isf_browser_lists_searches_and_renders_thumbnails(qt_session: object, myco_home: Path, tmp_path: Path) -> None:
    from installation.ui.effects_panel import IsfBrowser

    user = UserDirs.default().ensure()
    folder = tmp_path / "isf"
    folder.mkdir()
    (folder / "Invert Test.fs").write_text(INVERT)
    (folder / "red.fs").write_text(RED)
    (folder / "broken.fs").write_text("/*{ \"INPUTS\": [ }*/\nvoid main() {}\n")
    cache = user.state / "thumbnails"
    browser = IsfBrowser([folder], cache, lambda: "kai-1-living-city")
    try:
        assert sorted(browser._entries) == ["Invert Test", "broken", "red"]
        browser.search.setText("color")  # a category
        assert [k for k in browser._entries if not browser.list.item(list(browser._entries).index(k)).isHidden()] \
            == ["Invert Test"]
        browser.search.clear()
        assert pump(120, lambda: not browser._pending), "ISF thumbnails were not rendered"
        invert = pixels(isf_thumbnail_file(cache, folder / "Invert Test.fs"))
        red = pixels(isf_thumbnail_file(cache, folder / "red.fs"))
        assert not list(cache.glob("isf-broken-*.png"))  # listed with its error, not drawn
        assert invert.shape == red.shape == (108, 192, 3)
        assert np.abs(red - (255, 0, 0)).max() <= 1  # a generator alone
        # a filter over the preset's still: the same still as the preset's own thumbnail, inverted
        subprocess.run([sys.executable, "-m", "installation.app.thumbnails", str(tmp_path / "presets"),
                        "kai-1-living-city"], check=True, timeout=120)
        still = pixels(next((tmp_path / "presets").glob("kai-1-living-city-*.png")))
        assert still.std() > 15, "the preset's still is flat"
        assert np.abs((255 - still) - invert).mean() < 4

        (folder / "red.fs").write_text(RED.replace("1.0, 0.0, 0.0", "0.0, 0.0, 1.0"))  # saved again
        shutil.copy(folder / "red.fs", folder / "blue copy.fs")  # and a new file dropped in
        browser.follow_folders()
        assert "blue copy" in browser._entries
        assert pump(120, lambda: not browser._pending)
        assert np.abs(pixels(isf_thumbnail_file(cache, folder / "red.fs")) - (0, 0, 255)).max() <= 1
    finally:
        browser.stop()


def test_chain_list_drives_the_engines_chain(qt_session: object, myco_home: Path, tmp_path: Path) -> None:
    from installation.ui.effects_panel import EffectsPanel, IsfBrowser

    folder = tmp_path / "isf"
    folder.mkdir()
    (folder / "invert.fs").write_text(INVERT)
    (folder / "red.fs").write_text(RED)
    reports: list[str] = []
    chain = EffectChain(ParamBank(), [folder], reports.append)
    panel = EffectsPanel(IsfBrowser([folder], tmp_path / "cache", lambda: "kai-1-living-city", False),
                         lambda: chain.slots)

    def run(command: object, argument: str) -> None:  # what the engine does with the posted command
        chain.command(command, argument)  # type: ignore[arg-type]
        chain.step(1.0)
        panel.refresh()

    panel.command.connect(run)
    panel.browser.chosen.emit("invert")
    panel.browser.list.setCurrentRow(1)
    panel.browser.choose_button.click()
    assert chain.names() == ["invert", "red"]
    assert [panel.chain.item(row).text().split()[0] for row in range(panel.chain.count())] == ["invert", "red"]
    assert "layer, normal 100%" in panel.chain.item(1).text()

    panel.chain.setCurrentRow(1)
    panel.buttons["up"].click()
    assert chain.names() == ["red", "invert"]
    assert panel.selected() == "red"  # the selection follows the effect
    panel.buttons["bypass"].click()
    assert [slot.bypass for slot in chain.slots if not slot.leaving] == [True, False]
    assert "bypassed" in panel.chain.item(0).text()
    panel.buttons["remove"].click()
    assert chain.names() == ["invert"]
    panel.chain.setCurrentRow(0)
    panel.buttons["up"].click()  # already first: nothing is asked
    assert chain.names() == ["invert"] and not reports


def test_the_running_app_adds_an_effect_from_the_tab_shows_it_and_saves_it(qt_session: object, myco_home: Path,
                                                                           tmp_path: Path) -> None:
    import tomllib

    from tests.appkit import pixels as output
    from tests.appkit import start_app, stop_app

    folder = tmp_path / "isf"
    folder.mkdir()
    (folder / "invert.fs").write_text(INVERT)
    desktop = start_app(isf_dirs=(folder,))
    engine = desktop.runtime.engine
    try:
        plain = output(desktop).mean()
        panel = desktop.effects
        assert desktop.control.tabs.tabText(desktop.control.tabs.indexOf(panel)) == "Effects"
        assert "invert" in panel.browser.paths
        panel.browser.chosen.emit("invert")  # a double-click in the browser
        assert pump(10, lambda: [(s.name, s.level) for s in engine.effects.slots] == [("invert", 1.0)])
        assert pump(5, lambda: panel.chain.count() == 1 and panel.chain.item(0).text().startswith("invert"))
        inverted = output(desktop).mean()
        assert plain < 100 and inverted > 255 - plain - 40, (plain, inverted)  # the organism's picture, inverted
        assert pump(3, lambda: [e["name"] for e in desktop.runtime.status.get("effects", [])] == ["invert"])
        desktop.act("save")
        path = engine.preset.path
        assert path is not None and path.parent == UserDirs.default().presets
        assert tomllib.loads(path.read_text())["effect"] == [{"file": "invert"}]
    finally:
        stop_app(desktop)
