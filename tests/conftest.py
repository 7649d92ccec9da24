"""Shared fixtures: the real services (started once per session) and a private user home.

Nothing here imports Qt, GL, audio or MIDI libraries, so the pure-core tests in
``tests/core`` also run in the environment that has none of them installed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests import leaks, services
from tests.waiting import wait_for

# The fuzz tests draw the same examples on every run, so a run is judged on the code's changes,
# not on its luck; HYPOTHESIS_PROFILE=explore draws new ones each run, to look further.
settings.register_profile("repeatable", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``MYCO_TEST_ORDER=reverse`` runs the tests last to first: each must pass whatever ran before it."""
    if os.environ.get("MYCO_TEST_ORDER") == "reverse":
        items.reverse()


@pytest.fixture(autouse=True)
def gl_on_the_test_display(request: pytest.FixtureRequest) -> None:
    """Every test outside the pure core runs with the test X server in DISPLAY: vispy picks its
    backend once per process, at the first GL context (EGL with no display, Qt with one), and a
    test that ran first without the display made every later Qt-backed GL test fail. (Before the
    leak check: the X server belongs to the session, not to the test.)"""
    if "core" not in Path(str(request.node.path)).parent.parts[-1:]:
        request.getfixturevalue("x_display")


def process_qt_events() -> None:
    """Deliver Qt's posted events, where a test started Qt: a thread or process a test stopped is
    released by a deferred delete that only the event loop carries out (the leak check waits)."""
    application = sys.modules.get("PySide6.QtWidgets")
    if application is not None and application.QApplication.instance() is not None:
        application.QApplication.sendPostedEvents(None, 0)  # 0: every type, DeferredDelete too
        application.QApplication.processEvents()


@pytest.fixture(autouse=True)
def leak_check(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that leaves a file open, a process or thread running, a canvas or a JACK client behind.

    Autouse and function-scoped: pytest sets up the session and module fixtures a test asks
    for before it (so the services and the QApplication they start are in the snapshot), and
    the test's own fixtures after it (so they are torn down before it looks).
    """
    jack = "jack_server" in request.fixturenames  # asking the server costs a jack_lsp run
    before = leaks.snapshot(jack)
    yield

    def settled() -> leaks.Snapshot:
        process_qt_events()
        return leaks.snapshot(jack)

    found = leaks.left_behind(before, settled)
    if found:
        pytest.fail("the test left behind:\n  " + "\n  ".join(found), pytrace=False)


@pytest.fixture(autouse=True)
def myco_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own user folders, so nothing touches the real ones."""
    home = tmp_path / "myco-home"
    monkeypatch.setenv("MYCO_HOME", str(home))
    return home


def _start(factory: object) -> object:
    try:
        return factory()  # type: ignore[operator]
    except services.ServiceUnavailable as error:
        pytest.fail(f"required test service unavailable: {error}", pytrace=False)


@pytest.fixture(scope="session")
def x_display() -> Iterator[str]:
    """A real X server (Xvfb, 24-bit, Mesa GL); sets DISPLAY for the whole session."""
    manager = services.xvfb()
    server = _start(manager.__enter__)
    previous = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = server.display  # type: ignore[attr-defined]
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    try:
        yield server.display  # type: ignore[attr-defined]
    finally:
        manager.__exit__(None, None, None)
        if previous is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = previous


@pytest.fixture(scope="session")
def qt_session(x_display: str) -> Iterator[object]:
    """The one QApplication of the test session, on the test X server; shut down before it stops.

    Defined once here: a QApplication shut down and made again in one process crashes Qt, and
    one that outlives Xvfb makes Qt end the process with status 1 when its X connection breaks.
    """
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication, QWidget

    from installation.ui.gl_output import share_gl_contexts

    if QApplication.instance() is None:
        share_gl_contexts()  # as run_gui does: the outputs' views sample the one world's picture
    app = QApplication.instance() or QApplication([])
    assert app.platformName() == "xcb", (
        f"a QApplication was already created on Qt's {app.platformName()!r} platform by an earlier test; "
        "tests that create one must use the qt_session fixture")
    # Qt starts a D-Bus connection thread (holding an eventfd) with its first native window and
    # keeps it until the application shuts down: start it here, so it belongs to the session and
    # not to whichever test shows the first window (the leak check would count it there)
    first = QWidget()
    first.winId()
    wait_for(lambda: "QDBusConnection" in leaks.idle_native_threads(), 10, "Qt's D-Bus thread to wait for work")
    first.deleteLater()
    # Qt's icon theme lookup keeps its cache file open from the first themed icon on: start it
    # here (the threads of Qt's image-scaling pool come and go: tests/leaks.py knows them)
    QIcon.fromTheme("edit-clear").pixmap(16)
    yield app
    for widget in QApplication.topLevelWidgets():
        widget.close()
    app.processEvents()
    app.shutdown()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def jack_server() -> Iterator[services.Jack]:
    """A real JACK server with the dummy driver at 48 kHz / 256 frames."""
    manager = services.jackd()
    server = _start(manager.__enter__)
    saved = {key: os.environ.get(key) for key in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER")}
    os.environ.update(server.env())  # type: ignore[attr-defined]
    try:
        yield server  # type: ignore[misc]
    finally:
        manager.__exit__(None, None, None)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def controller(jack_server: services.Jack) -> Iterator[object]:
    """A test MIDI controller on the JACK server (tests/midi_rig.py), unplugged after the test."""
    from tests.midi_rig import TestController  # rtmidi: not in the core's environment

    ctl = TestController()
    yield ctl
    ctl.unplug()


@pytest.fixture(scope="session")
def mqtt_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[services.Mosquitto]:
    """A real mosquitto broker on a free loopback port."""
    manager = services.mosquitto(tmp_path_factory.mktemp("mosquitto"))
    broker = _start(manager.__enter__)
    try:
        yield broker  # type: ignore[misc]
    finally:
        manager.__exit__(None, None, None)
