"""The preset browser: search, recall, and thumbnails rendered by a separate process."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from installation.core.paths import UserDirs, resource_dir
from installation.core.presets import PresetLibrary
from tests.appkit import pump


def visible(browser: object) -> list[str]:
    items = [browser.list.item(row) for row in range(browser.list.count())]  # type: ignore[attr-defined]
    return [item.data(256) for item in items if not item.isHidden()]


def test_search_recall_and_rendered_thumbnails(qt_session: object, myco_home: Path) -> None:
    from PySide6.QtGui import QImage

    from installation.ui.browser import PresetBrowser

    user = UserDirs.default().ensure()
    for shipped, name in (("kai-1-living-city", "city"), ("elara-2-unveiled", "mural")):
        shutil.copy(resource_dir("presets") / f"{shipped}.toml", user.presets / f"{name}.toml")
    (user.presets / "broken.toml").write_text("[preset\n")
    cache = user.state / "thumbnails"
    browser = PresetBrowser(PresetLibrary(user, folders=[user.presets]), cache)
    recalled: list[str] = []
    browser.recall.connect(recalled.append)
    try:
        assert visible(browser) == ["broken", "city", "mural"]
        browser.search.setText("elara")  # the mural preset is tagged with its show
        assert visible(browser) == ["mural"]
        browser.search.setText("living city")  # all words, in name, title or tags
        assert visible(browser) == ["city"]
        browser.list.setCurrentRow(1)
        browser.recall_button.click()
        assert recalled == ["city"]
        browser.search.clear()

        assert pump(90, lambda: not browser._pending), "thumbnails were not rendered"
        files = sorted(cache.glob("*.png"))
        assert [f.name.rsplit("-", 1)[0] for f in files] == ["city", "mural"]  # the broken one is skipped
        pictures = []
        for file in files:
            image = QImage(str(file)).convertToFormat(QImage.Format.Format_RGB888)
            assert (image.width(), image.height()) == (192, 108)
            data = np.frombuffer(image.constBits(), np.uint8).reshape(108, image.bytesPerLine())[:, : 192 * 3]
            assert data.std() > 15, f"{file.name} is flat"
            pictures.append(data.reshape(108, 192, 3).mean(axis=(0, 1)))
        assert np.abs(pictures[0] - pictures[1]).max() > 10, "the two presets look alike"
    finally:
        browser.stop()
    assert browser._process is None
