"""The desktop app: the control window and the output windows around one :class:`Runtime`.

The engine ticks from a precise QTimer in the GUI thread. That keeps one writer for the
parameter bank with no locks (the UI, the timeline and the renderer all live in that thread),
and the renderer draws each frame right after the step that made it. Sound runs in its own
process and input listeners in their own threads, so neither is stalled by a busy GUI;
they only append to the engine's bounded input queue.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Sequence

from PySide6.QtCore import QBuffer, QIODevice, QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QApplication, QInputDialog

from installation.app.health import FrameClock
from installation.app.runtime import Runtime
from installation.app.status import PREVIEW_WIDTH
from installation.core.commands import Command
from installation.core.errors import LoadError
from installation.core.events import CommandInput, ParamInput
from installation.core.frames import with_all_events
from installation.core.params import Value
from installation.core.paths import UserDirs
from installation.ui import theme
from installation.ui.browser import PresetBrowser
from installation.ui.control import ControlWindow
from installation.ui.editing import EditHistory
from installation.ui.gl_output import share_gl_contexts
from installation.ui.health import HealthPanel
from installation.ui.monitor import NodeMonitor
from installation.ui.output import OutputManager, OutputWindow
from installation.ui.output_view import OutputView, Pictures, Scene, make_pictures
from installation.ui.param_panel import ParamPanel
from installation.ui.placement import assign, default_canvas, requests_for, window_size
from installation.ui.transport import TransportPanel

log = logging.getLogger(__name__)

UI_REFRESH_MS = 100
PREVIEW_EVERY = 3  # preview refreshes every third UI refresh (about 3 Hz)


class DesktopApp(QObject):
    """Builds the windows for a runtime and carries out what the operator does."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__()
        self.runtime = runtime
        engine = runtime.engine
        self.history = EditHistory()
        self._preset_seen = engine.preset
        self._errors_seen = runtime.errors.total
        self._refreshes = 0
        self.params = ParamPanel(engine.bank)
        self.transport = TransportPanel(engine.player, self.post, self.set_param)
        self.browser = PresetBrowser(engine.presets, UserDirs.default().state / "thumbnails",
                                     runtime.options.thumbnails)
        self.monitor = NodeMonitor()
        self.health = HealthPanel()
        self.control = ControlWindow(self.params, self.transport, self.browser, self.monitor, self.health)
        self.params.edited.connect(self.edit)
        self.params.reset_requested.connect(self.reset_to_preset)
        self.params.learn_requested.connect(self.learn)
        self.browser.recall.connect(lambda name: self.post(CommandInput(Command.PRESET, name)))
        self.control.action_triggered.connect(self.act)
        self.control.closing.connect(self.quit)
        screens = {screen.name(): screen.geometry() for screen in QGuiApplication.screens()}
        options = runtime.options
        requests = requests_for(list(screens), list(options.output_screens))
        plan = assign(list(screens), self.control_screen(), requests)
        canvas = options.canvas or default_canvas(
            [window_size((screens[name].width(), screens[name].height()), full) for name, full in plan])
        self.view_clocks = [FrameClock() for _ in requests]  # each output's own frame rate
        self.pictures: Pictures = make_pictures(
            canvas, [request.region for request in requests],
            [clock.frame_done for clock in self.view_clocks], runtime.clock.frame_done, self.report, engine.bank,
            options.quality or str(engine.bank.get("render.quality")), options.shader_dir,
            follow_quality=options.quality is None)
        self.views: Sequence[OutputView] = self.pictures.views
        windows = [OutputWindow(view, request, index)
                   for index, (view, request) in enumerate(zip(self.views, requests, strict=True))]
        self.outputs = OutputManager(windows, self.control_screen)
        runtime.outputs_status = self.outputs_status
        self.tick_timer = QTimer(self)
        self.tick_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.tick_timer.setInterval(max(1, int(1000 / engine.step_hz)))
        self.tick_timer.timeout.connect(self.tick)
        self.ui_timer = QTimer(self)
        self.ui_timer.setInterval(UI_REFRESH_MS)
        self.ui_timer.timeout.connect(self.refresh)
        self._closed = False
        self._first_frame_logged = False
        self._problem = ""  # the latest preset problem, shown until the preset loads again

    # -- life cycle -------------------------------------------------------------------------
    def show(self) -> None:
        primary = QGuiApplication.primaryScreen()
        self.control.show()
        if primary is not None:
            self.control.windowHandle().setScreen(primary)
            self.control.move(primary.geometry().topLeft())
        self.outputs.place_all()
        self.tick_timer.start()
        self.ui_timer.start()
        self.refresh()

    def control_screen(self) -> str | None:
        screen = self.control.screen() if self.control.isVisible() else QGuiApplication.primaryScreen()
        return screen.name() if screen is not None else None

    def quit(self) -> None:
        """End the event loop. Qt's quit first closes every window, and outputs refuse a plain
        close (see OutputWindow.closeEvent), so allow theirs first or the quit is cancelled."""
        for window in self.outputs.windows:
            window.closable = True
        app = QApplication.instance()
        if app is not None:
            app.quit()

    def close(self) -> None:
        """Stop the timers and close every window (the runtime is stopped by its owner)."""
        if self._closed:
            return
        self._closed = True
        self.tick_timer.stop()
        self.ui_timer.stop()
        self.browser.stop()
        self.runtime.outputs_status = None
        self.pictures.close()
        self.outputs.close()
        self.control.closing.disconnect(self.quit)
        self.control.close()

    # -- the tick ---------------------------------------------------------------------------
    def tick(self) -> None:
        runtime = self.runtime
        if not self._first_frame_logged and runtime.clock.frames:
            self._first_frame_logged = True
            log.info("first output frame %.2f s after start", time.monotonic() - runtime.started)
        frames = runtime.tick()
        engine = runtime.engine
        self.outputs.set_veil(engine.bank.number("render.blackout"))
        if frames:
            scene = Scene(*engine.look_mix(), engine.seed)
            self.pictures.show_frame(with_all_events(frames), engine.bank.snapshot(), scene)

    def outputs_status(self) -> list[dict[str, object]]:
        """Each output window by name: its own frame rate and time, its screen and canvas region."""
        return [{"name": f"output {window.index + 1}", "screen": window.screen_name,
                 "full_screen": window.full_screen, "region": list(window.request.region),
                 "fps": round(clock.fps(), 2), "frame_ms": clock.percentiles_ms()}
                for window, clock in zip(self.outputs.windows, self.view_clocks, strict=True)]

    def refresh(self) -> None:
        runtime = self.runtime
        engine = runtime.engine
        self._refreshes += 1
        self.params.refresh()
        crossfade = engine.bank.number("show.recall_crossfade")
        self.transport.refresh(crossfade)
        self.browser.show_crossfade(crossfade)
        self.monitor.record(engine.latest)
        status = runtime.status
        self.monitor.show_counters(status.get("inputs", {}))
        self.health.update_from(status, runtime.clock.durations_ms(), self.midi_text(status))
        midi = runtime.part("midi")
        if midi is not None and self.params.learning() and not midi.status()["learning"]:
            self.params.learning_done()  # a control was moved and bound
        if engine.preset is not self._preset_seen:
            self._preset_changed()
        if runtime.errors.total != self._errors_seen:
            self._errors_seen = runtime.errors.total
            latest = runtime.errors.last(1)[0].message
            if ".toml:" in latest:
                self._problem = f"{latest}\nThe output keeps the last good state."
        shader_problems = sorted(set(self.pictures.problems))
        if shader_problems:
            shader_problems.append("Shader error: the output keeps the last good shader.")
        self.control.show_problem("\n".join(filter(None, [self._problem, *shader_problems])))
        preset = engine.preset
        self.control.show_preset(preset.title or preset.name, preset.name, self.history.unsaved,
                                 self.history.can_undo, self.history.can_redo)
        if self._refreshes % PREVIEW_EVERY == 0:
            image = self.pictures.preview(PREVIEW_WIDTH)  # read back at the preview's size only
            self.control.preview.show_image(image)
            if runtime.status_server is not None and self._refreshes % (PREVIEW_EVERY * 3) == 0 and not image.isNull():
                runtime.status_server.publish_preview(png_bytes(image, PREVIEW_WIDTH))

    def _preset_changed(self) -> None:
        """A recall, an act change or a reload from disk: edits start again from the new preset."""
        self._preset_seen = self.runtime.engine.preset
        self.history.clear()
        self._problem = ""

    @staticmethod
    def midi_text(status: dict[str, object]) -> str:
        midi = status.get("inputs", {}).get("midi")  # type: ignore[attr-defined]
        if not midi:
            return "MIDI: not connected (start with --midi PATTERN)"
        learning = f"   learning {midi['learning'].removeprefix('param:')}…" if midi.get("learning") else ""
        return (f"MIDI: {midi.get('received', 0)} messages, ports {', '.join(midi.get('ports', [])) or '–'}"
                f"{learning}")

    # -- what the operator does -------------------------------------------------------------
    def post(self, item: CommandInput) -> None:
        self.runtime.engine.inputs.put(item)

    def set_param(self, name: str, value: object) -> None:
        self.runtime.engine.inputs.put(ParamInput(name, value, "ui"))

    def edit(self, name: str, value: Value) -> None:
        self.history.record(name, self.runtime.engine.bank.target(name), value)
        self.set_param(name, value)

    def reset_to_preset(self, name: str) -> None:
        engine = self.runtime.engine
        value = engine.preset.resolved(engine.specs()).get(name, engine.bank.spec(name).default)
        self.edit(name, value)

    def learn(self, name: str) -> None:
        """MIDI learn: the next control moved on the controller is bound to ``name`` ("" cancels)."""
        midi = self.runtime.part("midi")
        if midi is None:
            if name:
                self.report("MIDI learn needs a controller: start with --midi PATTERN")
                self.params.learning_done()
            return
        if name:
            midi.arm(f"param:{name}")
        else:
            midi.cancel()

    def report(self, message: str) -> None:
        log.warning("%s", message)  # the runtime's log handler puts it in the operator's error list

    def act(self, name: str) -> None:
        command = next((c for c in Command if c.value == name), None)
        if command is not None:  # the engine's own dispatcher carries it out (blackout, acts, pause, panic)
            self.post(CommandInput(command))
            if command is Command.PANIC:
                self.history.clear()
        elif name == "fullscreen":
            for window in self.outputs.windows:
                window.toggle_full_screen()
        elif name in ("undo", "redo"):
            edit = self.history.undo() if name == "undo" else self.history.redo()
            if edit is not None:
                self.set_param(edit.name, edit.before if name == "undo" else edit.after)
        elif name == "save":
            self.save(None)
        elif name == "save_as":
            text, ok = QInputDialog.getText(self.control, "Save as new user preset",
                                            "Name (lower-case letters, digits, - and _):")
            if ok and text:
                self.save(text.strip())
        elif name == "quit":
            self.quit()

    def save(self, name: str | None) -> None:
        """Save the edits into the user's preset folder (atomic, with backups), then follow that file."""
        engine = self.runtime.engine
        preset = engine.preset.with_params(self.history.edited_values())
        try:
            path = engine.presets.save(preset, engine.specs(), name)
        except (LoadError, ValueError, OSError) as error:
            # No modal dialog: it would block the show's event loop until someone clicks it.
            self.report(f"saving preset: {error}")
            self._problem = f"Preset not saved: {error}\nYour edits are kept; save again."
            self.control.show_problem(self._problem)
            return
        self.history.mark_saved()
        log.info("preset saved to %s", path)
        target = path.stem
        if engine.recall(target, crossfade_s=0.0):
            self._preset_seen = engine.preset
        self.browser.reload()


def png_bytes(image: QImage, width: int) -> bytes:
    scaled = image.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation)
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    scaled.save(buffer, "PNG")  # type: ignore[call-overload]
    return bytes(buffer.data().data())


def run_gui(runtime: Runtime, stop: threading.Event) -> int:
    """Show the windows and run Qt's event loop until the operator quits or time is up."""
    if QApplication.instance() is None:
        share_gl_contexts()  # the outputs' views sample the one world's picture
    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    app.setApplicationName("Myco")
    theme.apply(app)
    try:
        desktop = DesktopApp(runtime)
    except ValueError as error:  # e.g. --output-screen naming a screen that is not there
        print(f"myco run: {error}", file=sys.stderr)
        return 2
    desktop.show()
    # A signal only sets ``stop`` (see launch.stop_on_signals); look at it five times a second.
    # The timer also gives the interpreter a turn, so the Python signal handler runs at all.
    wake = QTimer()
    wake.timeout.connect(lambda: desktop.quit() if stop.is_set() else None)
    wake.start(200)
    if runtime.options.seconds is not None:
        QTimer.singleShot(int(runtime.options.seconds * 1000), desktop.quit)
    started = time.monotonic()
    try:
        code = app.exec()
    finally:
        wake.stop()
        desktop.close()
    log.info("closed after %.1f s", time.monotonic() - started)
    return int(code)

