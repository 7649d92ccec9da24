"""The desktop app on a real X server with real GL (Xvfb + Mesa): windows, controls, presets.

One app is shared by the tests of this module (start-up costs seconds on llvmpipe); each
test leaves it as it found it.
"""

from __future__ import annotations

import io
import json
import shutil
import threading
import tomllib
import urllib.request
from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image

from installation.app.gui import DesktopApp
from installation.core.paths import resource_dir
from installation.ui.gl_output import GlWorld
from installation.ui.param_panel import SLIDER_STEPS
from tests.appkit import pixels, pump, start_app, stop_app
from tests.services import Jack

EDIT_PRESET = "test-edit"


@pytest.fixture(scope="module")
def desktop(qt_session: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DesktopApp]:
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MYCO_HOME", str(home))
        (home / "presets").mkdir()
        shutil.copy(resource_dir("presets") / "kai-1-living-city.toml", home / "presets" / f"{EDIT_PRESET}.toml")
        app = start_app(preset=EDIT_PRESET)
        assert pump(30, lambda: app.runtime.clock.frames >= 3), "no output frame within 30 s"
        yield app
        stop_app(app)


def test_both_windows_show_and_the_output_is_not_blank(desktop: DesktopApp) -> None:
    assert desktop.control.isVisible()
    assert all(window.isVisible() for window in desktop.outputs.windows)
    picture = pixels(desktop)
    assert picture.shape[0] > 100 and picture.shape[1] > 100
    assert picture.mean() > 10, "output is black"
    assert picture.std() > 10, "output is a flat colour"
    assert pump(5, lambda: not desktop.control.preview.pixmap().isNull()), "no live preview"


def test_slider_changes_the_parameter_and_the_picture(desktop: DesktopApp) -> None:
    bank = desktop.runtime.engine.bank
    row = desktop.params.rows["render.exposure"]
    before_value = bank.target("render.exposure")
    before = pixels(desktop).mean()
    try:
        row.control.setValue(round(row.spec.to_normalized(0.2) * SLIDER_STEPS))  # type: ignore[attr-defined]
        assert pump(10, lambda: abs(bank.get("render.exposure") - 0.2) < 0.01)  # type: ignore[operator]
        assert bank.source("render.exposure") == "ui"
        pump(1.0)
        darker = pixels(desktop).mean()
        assert darker < before * 0.6, (before, darker)
        assert row.source_label.text() == "ui"
        assert desktop.history.unsaved and desktop.control.windowTitle().endswith("*")
        desktop.act("undo")
        assert pump(10, lambda: abs(bank.get("render.exposure") - before_value) < 0.01)  # type: ignore[operator]
        desktop.act("redo")
        assert pump(10, lambda: abs(bank.get("render.exposure") - 0.2) < 0.01)  # type: ignore[operator]
    finally:
        desktop.act("panic")
        pump(10, lambda: bank.target("render.exposure") == before_value)
        desktop.history.clear()


def test_double_click_resets_to_the_preset(desktop: DesktopApp) -> None:
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    bank = desktop.runtime.engine.bank
    preset_value = desktop.runtime.engine.preset.resolved(desktop.runtime.engine.specs())["sim.growth_rate"]
    desktop.set_param("sim.growth_rate", 2.5 if preset_value != 2.5 else 1.5)
    assert pump(5, lambda: bank.target("sim.growth_rate") != preset_value)
    label = desktop.params.rows["sim.growth_rate"].label
    click = QMouseEvent(QEvent.Type.MouseButtonDblClick, QPointF(3, 3), QPointF(3, 3), Qt.MouseButton.LeftButton,
                        Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(label, click)
    assert pump(5, lambda: bank.target("sim.growth_rate") == preset_value)
    desktop.history.clear()


def test_editing_the_preset_file_updates_the_running_app(desktop: DesktopApp) -> None:
    engine = desktop.runtime.engine
    path = engine.preset.path
    assert path is not None and path.name == f"{EDIT_PRESET}.toml"
    original = path.read_text()
    try:
        path.write_text(original.replace("[params]\n", '[params]\n"sim.spike_rate" = 1.75\n', 1))
        assert pump(5, lambda: engine.bank.target("sim.spike_rate") == pytest.approx(1.75))
    finally:
        path.write_text(original)
        pump(3, lambda: engine.bank.target("sim.spike_rate") != pytest.approx(1.75))


def test_a_broken_preset_shows_its_error_and_the_output_keeps_going(desktop: DesktopApp) -> None:
    engine = desktop.runtime.engine
    path = engine.preset.path
    assert path is not None
    original = path.read_text()
    try:
        path.write_text(original.replace("[params]\n", '[params]\n"render.no_such_knob" = 1\n', 1))
        assert pump(5, lambda: desktop.control.banner.isVisible())
        text = desktop.control.banner.text()
        assert f"{EDIT_PRESET}.toml:" in text and "render.no_such_knob" in text, text
        drawn = desktop.runtime.clock.frames
        assert pump(10, lambda: desktop.runtime.clock.frames >= drawn + 3), "output stopped"
        assert pixels(desktop).std() > 10
    finally:
        path.write_text(original)
        assert pump(5, lambda: not desktop.control.banner.isVisible())


def test_blackout_key_fades_to_black_and_back(desktop: DesktopApp) -> None:
    bank = desktop.runtime.engine.bank
    lit = pixels(desktop).mean()
    desktop.control.actions_by_name["blackout"].trigger()
    assert pump(10, lambda: bank.get("render.blackout") > 0.99)  # type: ignore[operator]
    pump(0.5)
    assert pixels(desktop).mean() < lit * 0.1
    desktop.control.actions_by_name["blackout"].trigger()
    assert pump(10, lambda: bank.get("render.blackout") < 0.01)  # type: ignore[operator]


def test_full_screen_key_toggles_the_output(desktop: DesktopApp) -> None:
    window = desktop.outputs.windows[0]
    before = window.isFullScreen()
    desktop.control.actions_by_name["fullscreen"].trigger()
    assert pump(3, lambda: window.isFullScreen() != before)
    assert window.isVisible()
    desktop.control.actions_by_name["fullscreen"].trigger()
    assert pump(3, lambda: window.isFullScreen() == before)


def test_next_act_from_the_transport(desktop: DesktopApp) -> None:
    player = desktop.runtime.engine.player
    start = player.act_index
    desktop.transport.next_button.click()
    assert pump(5, lambda: player.act_index == start + 1)
    pump(0.3)
    assert desktop.transport.position.text().startswith(f"Act {start + 2} of")
    desktop.transport.previous_button.click()
    assert pump(5, lambda: player.act_index == start)
    desktop.transport.acts.setCurrentRow(3)
    desktop.transport.jump_button.click()
    assert pump(5, lambda: player.act_index == 3)
    desktop.transport.acts.setCurrentRow(start)
    desktop.transport.jump_button.click()
    assert pump(5, lambda: player.act_index == start)
    assert desktop.runtime.engine.recall(EDIT_PRESET, crossfade_s=0.0)  # the act brought its own preset


def test_save_writes_the_user_preset_with_a_backup(desktop: DesktopApp) -> None:
    engine = desktop.runtime.engine
    assert engine.recall(EDIT_PRESET, crossfade_s=0.0)
    pump(0.3)
    path = engine.preset.path
    assert path is not None and path.stem == EDIT_PRESET
    before = path.read_text()
    desktop.edit("sim.dieback", 0.8)
    assert pump(5, lambda: engine.bank.target("sim.dieback") == pytest.approx(0.8))
    assert desktop.history.unsaved
    desktop.act("save")
    saved = tomllib.loads(path.read_text())
    assert saved["params"]["sim.dieback"] == 0.8
    assert path.with_name(f".{path.name}.1").read_text() == before
    assert path.read_text().startswith("# The living city")  # the artist's comments survive
    assert not desktop.history.unsaved
    pump(0.3)
    assert not desktop.control.windowTitle().endswith("*")


def test_save_as_new_user_preset_and_refuse_an_unsafe_name(desktop: DesktopApp) -> None:
    engine = desktop.runtime.engine
    folder = engine.presets.user.presets  # type: ignore[union-attr]
    desktop.edit("sim.branching", 0.9)
    assert pump(5, lambda: engine.bank.target("sim.branching") == pytest.approx(0.9))
    desktop.save("../../escape")
    assert not list(folder.parent.parent.glob("escape*")) and not (folder / "escape.toml").exists()
    assert "saving preset" in desktop.runtime.errors.last(1)[0].message
    assert desktop.history.unsaved, "a refused save keeps the edits"
    desktop.save("night-variant")
    saved = tomllib.loads((folder / "night-variant.toml").read_text())
    assert saved["params"]["sim.branching"] == 0.9
    assert engine.preset.name == "night-variant" and not desktop.history.unsaved
    assert "night-variant" in visible_presets(desktop)
    assert engine.recall(EDIT_PRESET, crossfade_s=0.0)
    pump(0.3)


def visible_presets(desktop: DesktopApp) -> list[str]:
    items = [desktop.browser.list.item(row) for row in range(desktop.browser.list.count())]
    return [item.data(256) for item in items]


def test_node_monitor_and_health_show_the_engine(desktop: DesktopApp) -> None:
    desktop.refresh()
    frame = desktop.runtime.engine.latest
    assert desktop.monitor.map.frame is frame
    assert frame.node_count > 0 and desktop.monitor.map.selected in frame.node_ids
    assert len(desktop.monitor.potential.values) > 0
    assert "fps" in desktop.health.summary.text()


def test_closing_leaves_no_thread_or_process(qt_session: object, jack_server: Jack) -> None:
    import multiprocessing

    before = {thread.ident for thread in threading.enumerate()}
    app = start_app(status="127.0.0.1:0", audio=True, osc="127.0.0.1:0")
    assert pump(30, lambda: app.runtime.clock.frames >= 2 and bool(app.runtime.audio_status()["running"]))
    names = {thread.name for thread in threading.enumerate()}
    assert "myco-status" in names and "audio-watchdog" in names and any(n.startswith("osc-") for n in names)
    assert multiprocessing.active_children(), "the audio engine runs in its own process"
    assert app.runtime.status_server is not None
    # the status document is rebuilt once a second, and fps counts the frames of the last 2 s:
    # the first frames (shaders compiling) can be further apart than that on a loaded machine
    assert pump(20, lambda: app.runtime.status.get("fps", 0) > 0), "no fps in the status document"
    with urllib.request.urlopen(app.runtime.status_server.url + "/status", timeout=5) as reply:
        report = json.loads(reply.read())
    assert report["act"] == app.runtime.engine.player.act.title and report["fps"] > 0
    assert report["audio"]["running"] is True
    server = app.runtime.status_server
    assert pump(15, lambda: server.body("/preview.png") is not None), "no preview published"
    with urllib.request.urlopen(server.url + "/preview.png", timeout=5) as reply:
        assert reply.headers["Content-Type"] == "image/png"
        preview = Image.open(io.BytesIO(reply.read()))
    assert preview.width == 480 and np.asarray(preview.convert("RGB")).std() > 10
    stop_app(app)
    left = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert left == [], left
    assert multiprocessing.active_children() == []
    assert np.isfinite(app.runtime.clock.fps())


def test_a_quality_change_rebuilds_the_output_which_keeps_drawing(qt_session: object) -> None:
    app = start_app(quality=None)  # not pinned by --quality: the output follows render.quality
    try:
        pictures = app.pictures
        assert isinstance(pictures, GlWorld)
        assert pump(30, lambda: pictures.world is not None and app.runtime.clock.frames >= 2)
        assert pictures.world.quality == "medium"  # the parameter's default; no shipped preset sets it
        app.runtime.engine.bank.set("render.quality", "low", "ui")
        assert pump(20, lambda: pictures.world is not None and pictures.world.quality == "low")
        assert pixels(app).std() > 5.0, "the rebuilt output draws the network"
    finally:
        stop_app(app)
