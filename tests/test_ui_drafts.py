"""Unsaved edits survive an act change, a crash and a quit, on the real app (Xvfb + Mesa).

Edits are kept as a draft in the user's state folder and offered back (Restore / Discard) when
their preset is current again; quitting with unsaved edits asks, but only the operator; a
preset saved while the show runs is what the show uses the next time its act comes.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator

import pytest

from installation.app.gui import DesktopApp
from installation.core.commands import Command
from installation.core.drafts import draft_path, read_draft
from installation.core.events import CommandInput
from installation.core.paths import UserDirs, resource_dir
from installation.ui.param_panel import SLIDER_STEPS
from tests.appkit import pump, start_app, stop_app

FIRST, SECOND = "kai-1-living-city", "kai-2-poison-clusters"  # the first two acts of kai-festival
EDITED = "render.saturation"  # a slider whose value differs in the two acts' presets


def preset_value(preset: str) -> float:
    value = tomllib.loads((resource_dir("presets") / f"{preset}.toml").read_text())["params"][EDITED]
    assert isinstance(value, float)
    return value


FIRST_VALUE, SECOND_VALUE = preset_value(FIRST), preset_value(SECOND)
assert FIRST_VALUE != SECOND_VALUE, f"the test needs {EDITED} to differ in {FIRST} and {SECOND}"


def user() -> UserDirs:
    return UserDirs.default()


def draft_value(preset: str, name: str = EDITED) -> object:
    draft = read_draft(user(), preset)
    return None if draft is None else draft.values.get(name)


def quiet_show(desktop: DesktopApp) -> None:
    """The timeline held (acts change only when the test says) and act changes without a fade."""
    desktop.post(CommandInput(Command.PAUSE, "on"))
    desktop.runtime.engine.player.transition_override_s = 0.0
    assert pump(10, lambda: desktop.runtime.engine.player.paused)


def go_to_act(desktop: DesktopApp, command: Command, preset: str) -> None:
    desktop.act(command.value)
    assert pump(15, lambda: desktop.runtime.engine.preset.name == preset
                and desktop.runtime.engine.fade is None), f"act with {preset} not reached"
    pump(0.3)  # a few refreshes: the app has seen the change


def slide(desktop: DesktopApp, name: str, value: float) -> float:
    """Move the parameter's slider as the operator does; returns the value it set (slider steps)."""
    row = desktop.params.rows[name]
    row.control.setValue(round(row.spec.to_normalized(value) * SLIDER_STEPS))  # type: ignore[attr-defined]
    bank = desktop.runtime.engine.bank
    assert pump(10, lambda: name in desktop.history.edited_values()
                and bank.get(name) == desktop.history.edited_values()[name])
    edited = desktop.history.edited_values()[name]
    assert isinstance(edited, float) and abs(edited - value) < 0.02
    return edited


def click(button: object) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    QTest.mouseClick(button, Qt.MouseButton.LeftButton)  # type: ignore[call-overload]


def answering(button_name: str, seen: list[str]) -> Callable[[], None]:
    """Start a timer that clicks ``button_name`` (Save, Discard, Cancel) on the quit question once it
    shows, noting its text in ``seen``; returns a function that stops the timer."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    def look() -> None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QMessageBox) and widget.isVisible() and widget.objectName() == "unsaved-edits":
                seen.append(widget.text())
                button = next(b for b in widget.buttons() if b.text().replace("&", "") == button_name)
                click(button)

    timer = QTimer()
    timer.timeout.connect(look)
    timer.start(50)
    return timer.stop


@pytest.fixture(scope="module")
def desktop(qt_session: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DesktopApp]:
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MYCO_HOME", str(home))
        app = start_app()
        assert pump(30, lambda: app.runtime.clock.frames >= 3), "no output frame within 30 s"
        quiet_show(app)
        yield app
        stop_app(app)


@pytest.fixture
def at_first_act(desktop: DesktopApp, monkeypatch: pytest.MonkeyPatch) -> Iterator[DesktopApp]:
    """The module's app in its first act with no edits and no drafts, MYCO_HOME its own."""
    monkeypatch.setenv("MYCO_HOME", str(desktop.user.state.parent))
    yield desktop
    desktop.history.clear()
    desktop.discard_draft()
    if desktop.runtime.engine.preset.name != FIRST:
        desktop.post(CommandInput(Command.JUMP_ACT, "0"))
        assert pump(15, lambda: desktop.runtime.engine.preset.name == FIRST and desktop.runtime.engine.fade is None)
        pump(0.3)
    for name in (FIRST, SECOND):
        draft_path(desktop.user, name).unlink(missing_ok=True)
        (desktop.user.presets / f"{name}.toml").unlink(missing_ok=True)
    desktop.discard_draft()
    desktop.act("panic")
    assert pump(10, lambda: desktop.runtime.engine.bank.target(EDITED) == FIRST_VALUE)
    desktop.history.clear()
    desktop.discard_draft()


def test_edits_survive_an_act_change_and_are_restored_or_discarded(at_first_act: DesktopApp) -> None:
    desktop = at_first_act
    bank = desktop.runtime.engine.bank
    assert desktop.runtime.engine.preset.name == FIRST and bank.get(EDITED) == FIRST_VALUE
    edited = slide(desktop, EDITED, 0.37)
    assert pump(5, lambda: draft_value(FIRST) == edited), "no draft written while editing"
    go_to_act(desktop, Command.NEXT_ACT, SECOND)
    assert bank.get(EDITED) == SECOND_VALUE, "the second act's preset is not applied"
    assert draft_value(FIRST) == edited and not desktop.history.unsaved
    assert desktop.draft_offered is None and not desktop.control.draft_banner.isVisible()  # no draft of SECOND

    go_to_act(desktop, Command.PREVIOUS_ACT, FIRST)
    assert bank.get(EDITED) == FIRST_VALUE, "the preset itself comes back, not the edits"
    assert pump(5, lambda: desktop.control.draft_banner.isVisible()), "the draft is not offered"
    text = desktop.control.draft_banner.label.text()
    assert f"Unsaved edits to <b>{FIRST}</b> from " in text and "1 parameter" in text, text
    assert desktop.draft_offered is not None and desktop.draft_offered.values == {EDITED: edited}
    pump(0.5)
    assert bank.get(EDITED) == FIRST_VALUE and not desktop.history.unsaved, "an offer alone changes nothing"

    click(desktop.control.draft_banner.restore_button)
    assert pump(10, lambda: bank.get(EDITED) == edited), bank.get(EDITED)
    assert not desktop.control.draft_banner.isVisible()
    assert desktop.history.unsaved and desktop.control.windowTitle().endswith("*")
    assert draft_value(FIRST) == edited, "a restored draft stays on disk until saved or undone"
    desktop.act("undo")  # back to the preset: nothing left to keep
    assert pump(10, lambda: bank.get(EDITED) == FIRST_VALUE)
    assert pump(5, lambda: not draft_path(desktop.user, FIRST).exists()), "the draft outlived the undo"

    edited = slide(desktop, EDITED, 0.52)
    go_to_act(desktop, Command.NEXT_ACT, SECOND)
    go_to_act(desktop, Command.PREVIOUS_ACT, FIRST)
    assert pump(5, lambda: desktop.control.draft_banner.isVisible())
    assert draft_value(FIRST) == edited
    click(desktop.control.draft_banner.discard_button)
    assert pump(5, lambda: not desktop.control.draft_banner.isVisible())
    assert not draft_path(desktop.user, FIRST).exists(), "Discard left the draft"
    pump(0.5)
    assert bank.get(EDITED) == FIRST_VALUE and not desktop.history.unsaved


def test_panic_keeps_the_edits_as_a_draft_and_offers_them_back(at_first_act: DesktopApp) -> None:
    desktop = at_first_act
    bank = desktop.runtime.engine.bank
    edited = slide(desktop, EDITED, 0.41)
    desktop.act("panic")  # Esc: at once, not after the debounce
    assert draft_value(FIRST) == edited
    assert pump(10, lambda: bank.get(EDITED) == FIRST_VALUE and desktop.control.draft_banner.isVisible())
    assert not desktop.history.unsaved
    click(desktop.control.draft_banner.restore_button)
    assert pump(10, lambda: bank.get(EDITED) == edited) and desktop.history.unsaved


def test_a_preset_saved_while_the_show_runs_is_used_when_its_act_comes(at_first_act: DesktopApp) -> None:
    desktop = at_first_act
    bank = desktop.runtime.engine.bank
    # Saved in a text editor (a user copy of the shipped preset) while the first act plays.
    copy = desktop.user.presets / f"{SECOND}.toml"
    copy.parent.mkdir(parents=True, exist_ok=True)
    text = (resource_dir("presets") / f"{SECOND}.toml").read_text()
    assert f'"{EDITED}" = {SECOND_VALUE}' in text
    copy.write_text(text.replace(f'"{EDITED}" = {SECOND_VALUE}', f'"{EDITED}" = 0.61'))
    go_to_act(desktop, Command.NEXT_ACT, SECOND)
    assert bank.get(EDITED) == pytest.approx(0.61), "the act used the preset as it was at start"

    # Saved from the app in the act, then the act comes again later.
    edited = slide(desktop, EDITED, 0.44)
    desktop.act("save")
    assert pump(5, lambda: not desktop.history.unsaved)
    assert not draft_path(desktop.user, SECOND).exists(), "a saved preset keeps its draft"
    go_to_act(desktop, Command.PREVIOUS_ACT, FIRST)
    assert bank.get(EDITED) == FIRST_VALUE
    go_to_act(desktop, Command.NEXT_ACT, SECOND)
    assert bank.get(EDITED) == pytest.approx(edited, abs=1e-6)
    assert desktop.draft_offered is None and not desktop.control.draft_banner.isVisible()


def test_a_broken_draft_is_reported_and_set_aside(at_first_act: DesktopApp) -> None:
    desktop = at_first_act
    path = draft_path(desktop.user, SECOND)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('[draft]\npreset = "kai-2-poison-clusters"\nsaved_at = 2025-05-06T21:14:03+00:00\n'
                    '[params]\n"render.exposure" = "bright"\n')
    errors = desktop.runtime.errors.total
    go_to_act(desktop, Command.NEXT_ACT, SECOND)
    assert pump(5, lambda: desktop.runtime.errors.total > errors)
    message = "\n".join(error.message for error in desktop.runtime.errors.last(5))
    assert f"{path}:5: params.render.exposure" in message and "set aside" in message, message
    assert not path.exists() and len(list(path.parent.glob(f"{SECOND}.toml.broken-*"))) == 1
    assert desktop.draft_offered is None and not desktop.control.draft_banner.isVisible()
    assert desktop.runtime.engine.bank.get(EDITED) == SECOND_VALUE  # the show went on
    for aside in path.parent.glob(f"{SECOND}.toml.broken-*"):
        aside.unlink()


def test_quitting_with_unsaved_edits_asks_the_operator(at_first_act: DesktopApp,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    desktop = at_first_act
    quits: list[str] = []
    monkeypatch.setattr(desktop, "quit", lambda: quits.append("quit"))  # the test's event loop goes on
    edited = slide(desktop, EDITED, 0.29)
    seen: list[str] = []
    stop = answering("Cancel", seen)
    try:
        desktop.act("quit")  # Ctrl+Q: blocks in the question until the timer clicks Cancel
        assert seen == [f"The preset {FIRST} has unsaved edits."] and quits == []
        assert draft_value(FIRST) == edited, "the draft was not written before asking"
        desktop.control.close()  # the window's close button asks too; Cancel keeps it open
        assert len(seen) == 2 and desktop.control.isVisible() and quits == []
    finally:
        stop()
    assert desktop.history.unsaved and desktop.runtime.engine.bank.get(EDITED) == edited
    pump(0.3)
    assert desktop.runtime.clock.frames > 0 and desktop.control.isVisible()

    stop = answering("Discard", seen)
    try:
        desktop.act("quit")
    finally:
        stop()
    assert len(seen) == 3 and quits == ["quit"]
    assert not draft_path(desktop.user, FIRST).exists() and not desktop.history.unsaved


def test_a_crash_loses_no_edits_and_an_unattended_quit_never_asks(qt_session: object) -> None:
    from PySide6.QtWidgets import QApplication, QMessageBox

    crashed = start_app()
    second: DesktopApp | None = None
    try:
        assert pump(30, lambda: crashed.runtime.clock.frames >= 3)
        quiet_show(crashed)
        edited = slide(crashed, EDITED, 0.33)
        assert pump(5, lambda: draft_value(FIRST) == edited), "no draft within the debounce"
        # The crash: nothing of the app's shutdown runs (no quit, no close); it just stops.
        crashed.tick_timer.stop()
        crashed.ui_timer.stop()
        second = start_app()
        assert pump(30, lambda: second is not None and second.control.draft_banner.isVisible()), \
            "the draft left by the crash is not offered at start"
        assert second.draft_offered is not None and second.draft_offered.values == {EDITED: edited}
        click(second.control.draft_banner.restore_button)
        assert pump(10, lambda: second is not None and second.runtime.engine.bank.get(EDITED) == edited)
        assert second.history.unsaved

        # Stopped by a signal, --seconds or the service: no question, the draft written at once
        # (a second edit, quit in the same turn of the event loop, before the debounced write).
        second.edit("render.exposure", 0.55)
        second.quit()
        asked = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
        assert asked == []
        draft = read_draft(user(), FIRST)
        assert draft is not None and draft.values == {EDITED: edited, "render.exposure": 0.55}
    finally:
        if second is not None:
            stop_app(second)
        stop_app(crashed)
