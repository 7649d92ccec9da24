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
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QBuffer, QIODevice, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QApplication, QInputDialog

from installation.app.health import FrameClock
from installation.app.lockstep import Lockstep, publish_previews
from installation.app.options import RunOptions
from installation.app.runtime import Runtime
from installation.app.snapshots import SnapshotKeeper
from installation.app.status import PREVIEW_WIDTH
from installation.core.commands import Command
from installation.core.drafts import Draft, changed_values, delete_draft, read_draft, set_aside, when_text, write_draft
from installation.core.errors import LoadError
from installation.core.events import CommandInput, ParamInput, RoutingsInput
from installation.core.frames import WorldFrame, with_all_events
from installation.core.mapping import Mapping
from installation.core.params import Value
from installation.core.paths import UserDirs
from installation.core.presets import Preset
from installation.core.tempo import QUANTIZE
from installation.core.textfile import mtime
from installation.core.venue import OutputSpec, Venue, load_venue, save_venue
from installation.core.venue_osc import OutputAction, apply_osc, decode_action
from installation.render.sound import live_sound
from installation.ui import theme
from installation.ui.browser import PresetBrowser
from installation.ui.control import ControlWindow
from installation.ui.decks import DeckStrip
from installation.ui.drafts import ask_unsaved
from installation.ui.editing import EditHistory
from installation.ui.effects_panel import EffectsPanel, IsfBrowser
from installation.ui.gl_output import share_gl_contexts
from installation.ui.health import HealthPanel
from installation.ui.mapping_editor import EditorHooks, MappingEditor
from installation.ui.modulation_matrix import ModulationMatrix
from installation.ui.monitor import NodeMonitor
from installation.ui.output import OutputManager, OutputWindow
from installation.ui.output_view import OutputView, Pictures, Scene, make_pictures
from installation.ui.param_panel import ParamPanel
from installation.ui.placement import (
    OutputRequest,
    assign,
    default_canvas,
    requests_for,
    venue_requests,
    window_size,
)
from installation.ui.tempo_strip import TempoStrip
from installation.ui.transport import TransportPanel

log = logging.getLogger(__name__)

UI_REFRESH_MS = 100
PREVIEW_EVERY = 3  # preview refreshes every third UI refresh (about 3 Hz)
FOLDERS_EVERY = 10  # the ISF folders are listed again about once a second (a file dropped in appears)
VENUE_POLL_S = 1.0  # the venue file is looked at once a second for external edits
DRAFT_EVERY_S = 1.0  # unsaved edits are written as a draft at most once a second (at once before a change)
DRAFT_FIRST = (Command.NEXT_ACT, Command.PREVIOUS_ACT, Command.JUMP_ACT, Command.PRESET)  # the draft first


def venue_and_requests(screens: list[str], options: RunOptions,
                       venue: Venue | None) -> tuple[Venue, list[OutputRequest]]:
    """The venue (``--venue``, loaded by the runtime; else one unmapped output per
    ``--output-screen``) and its outputs' screen requests. ValueError for a bad choice."""
    if venue is None:
        requests = requests_for(screens, list(options.output_screens))
        venue = Venue("default", "", None, tuple(OutputSpec(f"output {index + 1}", request.wanted, None,
                                                            request.region)
                                                 for index, request in enumerate(requests)))
        return venue, requests
    if options.output_screens:
        raise ValueError("--output-screen and --venue both choose screens: the venue file says which screen "
                         "each output goes to")
    return venue, venue_requests(screens, venue)


class DesktopApp(QObject):
    """Builds the windows for a runtime and carries out what the operator does."""

    venue_changed = Signal(object)  # the venue, changed from outside the editor (file, OSC)

    def __init__(self, runtime: Runtime) -> None:
        super().__init__()
        self.runtime = runtime
        engine = runtime.engine
        self.history = EditHistory()
        self.user = UserDirs.default()  # drafts of unsaved edits live in its state folder
        self._offered: Draft | None = None  # a draft offered back, neither restored nor discarded yet
        self._offer_pending = False  # the offer's banner waits for the preset's fade to end
        self._draft_dirty = False
        self._draft_written = 0.0
        self._quitting = False
        self._preset_seen = engine.preset
        self._errors_seen = runtime.errors.total
        self._refreshes = 0
        self.params = ParamPanel(engine.bank)
        self.transport = TransportPanel(engine.player, self.post, self.set_param)
        self.browser = PresetBrowser(engine.presets, UserDirs.default().state / "thumbnails",
                                     runtime.options.thumbnails)
        self.monitor = NodeMonitor()
        self.health = HealthPanel()
        self.decks = DeckStrip(engine.presets.names(), self.post, self.set_param)
        self.tempo_strip = TempoStrip(engine.tempo, self.set_param)
        under_transport = self.transport.layout()
        assert under_transport is not None  # the panel lays itself out
        under_transport.addWidget(self.tempo_strip)  # under the act buttons: the show's tempo, Tap
        self.control = ControlWindow(self.params, self.transport, self.browser, self.monitor, self.health, self.decks)
        self.effects = EffectsPanel(IsfBrowser(engine.effects.folders, UserDirs.default().state / "thumbnails",
                                               lambda: engine.preset.name, runtime.options.thumbnails),
                                    lambda: engine.effects.slots)
        self.control.tabs.addTab(self.effects, "Effects")
        self.effects.command.connect(lambda command, argument: self.post(CommandInput(command, argument)))
        self.params.edited.connect(self.edit)
        self.params.reset_requested.connect(self.reset_to_preset)
        self.params.learn_requested.connect(self.learn)
        self.browser.recall.connect(lambda name: self.post(CommandInput(Command.PRESET, name)))
        self.control.action_triggered.connect(self.act)
        self.control.closing.connect(self.quit)
        self.control.confirm_close = self._may_close
        self.control.draft_banner.restore.connect(self.restore_draft)
        self.control.draft_banner.discard.connect(self.discard_draft)
        self.matrix = ModulationMatrix(engine.specs, self.control)  # Ctrl+Shift+M
        self.matrix.changed.connect(lambda routings: engine.inputs.put(RoutingsInput(routings)))
        self.matrix.save_requested.connect(lambda: self.act("save"))
        screens = {screen.name(): screen.geometry() for screen in QGuiApplication.screens()}
        options = runtime.options
        self.venue, requests = venue_and_requests(list(screens), options, runtime.venue)
        self._saved_venue = self.venue  # as in the file: what venue_unsaved compares with
        self._venue_polled = 0.0
        self._venue_stamp = mtime(self.venue.path) if self.venue.path else -1
        plan = assign(list(screens), self.control_screen(), requests)
        canvas = options.canvas or self.venue.canvas or default_canvas(
            [window_size((screens[name].width(), screens[name].height()), full) for name, full in plan],
            [request.region for request in requests])
        self.view_clocks = [FrameClock() for _ in requests]  # each output's own frame rate
        self.pictures: Pictures = make_pictures(
            canvas, [request.region for request in requests],
            [clock.frame_done for clock in self.view_clocks], runtime.clock.frame_done, self.report, engine.bank,
            options.quality or str(engine.bank.get("render.quality")), options.shader_dir,
            follow_quality=options.quality is None, hot_reload=runtime.cluster is None,  # a member: the same shaders
            seed=engine.seed.rng_seed)
        # snapshots of the organism; a resumed one's picture goes to the world before its next step
        self.snapshots = SnapshotKeeper(engine)
        self._snapshot_gpu = getattr(self.pictures, "save_state", None)
        self._hand_resumed()
        # a cluster member's hyphae step once per render group (app/lockstep.py), and the leader's
        # snapshot carries them (docs/cluster.md)
        self.lockstep = Lockstep(engine) if runtime.cluster is not None else None
        if runtime.cluster is not None:
            runtime.cluster.gpu = self._snapshot_gpu
        self.views: Sequence[OutputView] = self.pictures.views
        windows = [OutputWindow(view, request, index)
                   for index, (view, request) in enumerate(zip(self.views, requests, strict=True))]
        self.outputs = OutputManager(windows, self.control_screen)
        runtime.outputs_status = self.outputs_status
        self.apply_venue(self.venue)
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
        self._build_mapping_editor()
        self._offer_draft()  # edits left by a crash or a quit

    def _build_mapping_editor(self) -> None:
        """The Mapping tab (Ctrl+M): the venue's projection mapping, edited on a live view of each
        output or with the mouse on the output itself."""
        self.mapping_editor = MappingEditor(self.venue, EditorHooks(
            self.set_mapping, self.set_pattern, self.save_venue, self.pictures.output_preview, self.output_size))
        self.mapping_editor.attach_outputs([window.view.widget for window in self.outputs.windows])
        self.venue_changed.connect(self.mapping_editor.show_venue)
        self.control.tabs.addTab(self.mapping_editor, "Mapping")

    def mapping_current(self) -> bool:
        """Is the Mapping tab open? Then undo, redo and save are the mapping's."""
        return self.control.tabs.currentWidget() is self.mapping_editor

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
        """End the event loop, never asking: a signal, ``--seconds``, the service stopping the show
        (or the operator, once :meth:`operator_quit` has asked). Unsaved edits are written as a draft
        first, offered back at the next start. Qt's quit first closes every window, and outputs
        refuse a plain close (see OutputWindow.closeEvent), so allow theirs first or the quit is cancelled."""
        if not self._quitting:
            self._quitting = True
            self._keep_draft(self._preset_seen)
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
        if self._draft_dirty:
            self._keep_draft(self._preset_seen)
        self.tick_timer.stop()
        self.ui_timer.stop()
        self.browser.stop()
        self.effects.browser.stop()
        self.runtime.outputs_status = None
        self.snapshots.close(self._snapshot_gpu)  # a clean exit: the last state, written before the world goes
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
        due: tuple[WorldFrame, float | None] | None
        if self.lockstep is not None:
            due = self.lockstep.due(frames)
        else:  # every frame, by the wall clock
            due = (with_all_events(frames), None) if frames else None
        self._hand_resumed()  # a cluster member that caught up from the leader's snapshot
        if due is not None:
            scene = Scene(*engine.look_mix(), engine.seed, engine.effects.slots,
                          live_sound(engine.effects.slots, runtime.audio))
            self.pictures.show_frame(due[0], engine.bank.snapshot(), scene, due[1])
            if self.lockstep is not None:
                self._member_previews()
        if frames:
            self.snapshots.maybe_take(self._snapshot_gpu)  # every few minutes and at each act change
            if runtime.cluster is not None:
                runtime.cluster.maybe_publish_state()
        runtime.heartbeat.beat(runtime.clock.frames)  # systemd's watchdog: only while world frames finish

    def _member_previews(self) -> None:
        """A cluster member's previews, at the same show steps on every member, so they can be compared."""
        def output(index: int) -> Callable[[], bytes]:
            return lambda: png_bytes(self.pictures.output_preview(index, PREVIEW_WIDTH), PREVIEW_WIDTH)

        publish_previews(self.runtime, lambda: png_bytes(self.pictures.preview(PREVIEW_WIDTH), PREVIEW_WIDTH),
                         [(name, output(index)) for index, name in enumerate(self.venue.output_names)])

    def _hand_resumed(self) -> None:
        """A resumed snapshot (``--resume``, or a cluster member's catch-up): its picture to the world."""
        engine = self.runtime.engine
        if engine.resumed is not None and hasattr(self.pictures, "resume"):
            self.pictures.resume = engine.resumed  # type: ignore[attr-defined]
        engine.resumed = None

    def outputs_status(self) -> list[dict[str, object]]:
        """Each output window by name: its own frame rate and time, its screen and canvas region."""
        return [{"name": self.venue.outputs[window.index].name, "screen": window.screen_name,
                 "full_screen": window.full_screen, "region": list(window.request.region),
                 "fps": round(clock.fps(), 2), "frame_ms": clock.percentiles_ms()}
                for window, clock in zip(self.outputs.windows, self.view_clocks, strict=True)]

    # -- the venue: outputs, their screens and projection mapping ------------------------------
    def apply_venue(self, venue: Venue) -> None:
        """Show ``venue``'s regions and mappings on the outputs of the same names, and send the
        outputs to its screens. Outputs are made at start: ones added or removed in the file
        wait for a restart (reported)."""
        names = venue.output_names
        shown = self.venue.output_names
        if sorted(names) != sorted(shown):
            self.report(f"venue {venue.name}: outputs added or removed ({', '.join(names)}) take effect on restart; "
                        f"the outputs {', '.join(shown)} follow the file")
        for index, output in enumerate(self.venue.outputs):
            spec = venue.output(output.name) if output.name in names else output
            self.pictures.set_mapping(index, spec.region, spec.mapping)
        self.venue = replace(venue, outputs=tuple(venue.output(o.name) if o.name in names else o
                                                  for o in self.venue.outputs))
        if self.runtime.venue is not None:  # the runtime's parts (schedule, projectors) follow the file too
            self.runtime.venue = self.venue
        if self.runtime.status_server is not None:  # the outputs /preview.png?output= may name
            self.runtime.status_server.set_outputs(self.venue.output_names)
        screens = [screen.name() for screen in QGuiApplication.screens()]
        for window, request in zip(self.outputs.windows, venue_requests(screens, self.venue), strict=True):
            window.request = request
        if self.outputs.windows and self.outputs.windows[0].screen_name:  # already placed: follow the file
            self.outputs.place_all()

    @property
    def venue_unsaved(self) -> bool:
        """Mapping edits not yet in the venue file (undone ones are not)."""
        return self.venue != self._saved_venue

    def set_mapping(self, name: str, mapping: Mapping) -> None:
        """An edit of one output's mapping (the editor, OSC): shown from the next paint."""
        self.venue = self.venue.with_mapping(name, mapping)
        index = self.venue.output_names.index(name)
        self.pictures.set_mapping(index, self.venue.outputs[index].region, mapping)

    def set_pattern(self, name: str, pattern: str | None) -> None:
        index = self.venue.output_names.index(name)
        self.pictures.set_pattern(index, pattern)

    def output_size(self, index: int) -> tuple[int, int]:
        widget = self.outputs.windows[index].view.widget
        ratio = widget.devicePixelRatio()
        return max(1, round(widget.width() * ratio)), max(1, round(widget.height() * ratio))

    def save_venue(self) -> Path | None:
        """Save the venue (atomic, with backups, comments kept; a shipped example is saved as a
        copy in the user's venue folder, which the app then follows)."""
        try:
            path = save_venue(self.venue)
        except (LoadError, ValueError, OSError) as error:
            self.report(f"saving venue: {error}")
            self._problem = f"Venue not saved: {error}\nYour mapping is kept; save again."
            return None
        self.venue = replace(self.venue, path=path)
        self._venue_stamp = mtime(path)
        self._saved_venue = self.venue
        log.info("venue saved to %s", path)
        return path

    def _follow_venue_file(self) -> None:
        """Reload the venue file after an external edit; a broken one keeps the last good mapping."""
        path = self.venue.path
        if path is None or mtime(path) == self._venue_stamp:
            return
        self._venue_stamp = mtime(path)
        try:
            venue = load_venue(path)
        except LoadError as error:
            self.report(f"venue file not loaded, the outputs keep their mapping:\n{error}")
            self._problem = f"{error}\nThe outputs keep the last good mapping."
            return
        if venue != self.venue:
            log.info("venue %s reloaded after an edit", path)
            self.apply_venue(venue)
            self._saved_venue = self.venue
            self.venue_changed.emit(self.venue)

    def _follow_venue_osc(self) -> None:
        """Mapping edits and actions received over OSC; a malformed one is counted and dropped."""
        changed = False
        for address, args in self.runtime.venue_edits.drain():
            try:
                action = decode_action(address, args, self.venue)
                if action is not None:
                    self._osc_action(action)
                    continue
                venue = apply_osc(self.venue, address, args)
            except (ValueError, KeyError) as error:
                self.runtime.venue_edits.rejected += 1
                log.debug("OSC %s %s: %s", address, args, error)
                continue
            if venue != self.venue:
                self.apply_venue(venue)
            changed = True
        if changed:
            self.venue_changed.emit(self.venue)

    def _osc_action(self, action: OutputAction) -> None:
        if action.action == "save":
            self.save_venue()
        elif action.action == "pattern" and action.output is not None:
            self.set_pattern(self.venue.output(action.output).name, None if action.value == "off" else action.value)

    def _publish_output_previews(self) -> None:
        """``/preview.png?output=NAME`` for the outputs a client asked for in the last seconds."""
        server = self.runtime.status_server
        if server is None:
            return
        names = self.venue.output_names
        for name in server.wanted_outputs():
            if name in names:
                image = self.pictures.output_preview(names.index(name), PREVIEW_WIDTH)
                if not image.isNull():
                    server.publish_preview(png_bytes(image, PREVIEW_WIDTH), output=name)

    def refresh(self) -> None:
        runtime = self.runtime
        engine = runtime.engine
        self._refreshes += 1
        self._follow_venue_osc()
        if time.monotonic() - self._venue_polled >= VENUE_POLL_S:  # by the clock: refreshes slow down with the frames
            self._venue_polled = time.monotonic()
            self._follow_venue_file()
        self.params.refresh()
        if self.matrix.isVisible():
            self.matrix.show_routings(engine.modulation.routings)
            self.matrix.show_values(engine.modulation.values)
        crossfade = engine.bank.number("show.recall_crossfade")
        self.transport.refresh(crossfade)
        self.decks.refresh(engine.decks)
        self.tempo_strip.refresh(str(engine.bank.get(QUANTIZE)))
        self.browser.show_crossfade(crossfade)
        self.effects.refresh()
        if self._refreshes % FOLDERS_EVERY == 0:
            self.effects.browser.follow_folders()
        self.monitor.record(engine.latest)
        status = runtime.status
        self.monitor.show_counters(status.get("inputs", {}))
        self.health.update_from(status, runtime.clock.durations_ms(), self.midi_text(status))
        midi = runtime.part("midi")
        if midi is not None and self.params.learning() and not midi.status()["learning"]:
            self.params.learning_done()  # a control was moved and bound
        if engine.preset is not self._preset_seen:
            self._preset_changed()
        self._follow_drafts()
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
        edits = self.mapping_editor.model if self.mapping_current() else self.history
        self.control.show_preset(preset.title or preset.name, preset.name,
                                 self.history.unsaved or self._routings_unsaved(), edits.can_undo, edits.can_redo)
        if self._refreshes % PREVIEW_EVERY == 0:
            image = self.pictures.preview(PREVIEW_WIDTH)  # read back at the preview's size only
            self.control.preview.show_image(image)
            if runtime.cluster is None:  # a member's are taken at the show's steps (tick)
                if runtime.status_server is not None and self._refreshes % (PREVIEW_EVERY * 3) == 0 \
                        and not image.isNull():
                    runtime.status_server.publish_preview(png_bytes(image, PREVIEW_WIDTH))
                self._publish_output_previews()

    def _preset_changed(self) -> None:
        """A recall, an act change or a reload from disk: the unsaved edits of the preset left are kept
        as its draft, edits start again from the new preset, and its own draft is offered back."""
        self._keep_draft(self._preset_seen)
        self._preset_seen = self.runtime.engine.preset
        self.history.clear()
        self._problem = ""
        self._offer_draft()

    # -- drafts: unsaved edits kept on disk (installation.core.drafts) --------------------------
    def _keep_draft(self, preset: Preset) -> None:
        """Write the draft of ``preset`` now: the offered draft (if any) with the edits made since on
        top, only where they differ from the preset; deleted when nothing differs any more (saved,
        undone). A failure is reported, never raised into the show."""
        self._draft_dirty = False
        self._draft_written = time.monotonic()
        specs = self.runtime.engine.specs()
        resolved = preset.resolved(specs)
        own = changed_values(resolved, self.history.edited_values(), specs)
        offered = self._offered if self._offered is not None and self._offered.preset == preset.name else None
        values = changed_values(resolved, {**(offered.values if offered else {}), **own}, specs)
        try:
            if values:  # an untouched offer keeps its own time
                write_draft(self.user, preset.name, values, now=offered.saved_at if offered and not own else None)
            else:
                delete_draft(self.user, preset.name)
        except (OSError, ValueError, LoadError) as error:
            self.report(f"keeping the unsaved edits of {preset.name} as a draft: {error}")

    def _offer_draft(self) -> None:
        """Offer the current preset's draft back (a banner, once the preset's fade is over: the show
        goes on); a broken draft is reported and set aside."""
        self._offered = None
        self._offer_pending = False
        self.control.draft_banner.withdraw()
        name = self._preset_seen.name
        try:
            draft = read_draft(self.user, name, self.runtime.engine.specs())
        except (LoadError, ValueError) as error:
            problem = str(error)
            try:
                where = f"set aside as {set_aside(self.user, name)}"
            except (LoadError, ValueError) as failure:
                where = f"left in place ({failure})"
            self.report(f"the draft of unsaved edits to {name} is broken and was {where}:\n{problem}")
            return
        if draft is not None and draft.values:
            self._offered = draft
            self._offer_pending = True

    def _follow_drafts(self) -> None:
        """From refresh: write the draft at most once a second while editing; show a pending offer."""
        if self._draft_dirty and time.monotonic() - self._draft_written >= DRAFT_EVERY_S:
            self._keep_draft(self._preset_seen)
        if self._offer_pending and self._offered is not None and self.runtime.engine.fade is None:
            self._offer_pending = False
            self.control.draft_banner.offer(self._offered.preset, when_text(self._offered.saved_at),
                                            len(self._offered.values))

    @property
    def draft_offered(self) -> Draft | None:
        """The draft the banner offers (None when none is shown)."""
        return self._offered if self.control.draft_banner.isVisibleTo(self.control) else None

    def restore_draft(self) -> None:
        """Apply the offered draft's values as edits: unsaved, and undo and save work on them (a
        parameter edited since the offer keeps its new value)."""
        draft, self._offered = self._offered, None
        self.control.draft_banner.withdraw()
        if draft is None:
            return
        edited = self.history.edited_values()
        bank = self.runtime.engine.bank
        for name, value in draft.values.items():
            if name not in edited and name in bank:
                self.edit(name, value)
        self._keep_draft(self._preset_seen)

    def discard_draft(self) -> None:
        """Throw the offered draft away (edits made since stay, in a draft of their own)."""
        self._offered = None
        self.control.draft_banner.withdraw()
        self._keep_draft(self._preset_seen)

    def _may_close(self) -> bool:
        """The operator asks to quit (Ctrl+Q, closing the control window): with unsaved edits, ask
        Save / Discard / Cancel. The draft is written first, so a kill during the question loses
        nothing. An unattended stop (a signal, ``--seconds``, the service) never comes here."""
        if self._quitting or self._closed:
            return True
        self._keep_draft(self._preset_seen)
        preset = self._preset_seen
        specs = self.runtime.engine.specs()
        if not changed_values(preset.resolved(specs), self.history.edited_values(), specs) \
                and not self._routings_unsaved():
            return True  # nothing of this session's (an untouched offer stays for the next start)
        answer = ask_unsaved(self.control, preset.name)
        if answer == "save":
            self.save(None)
            # a failed save keeps the app open; the banner says why
            return not self.history.unsaved and not self._routings_unsaved()
        if answer == "discard":
            self.history.clear()
            self._keep_draft(preset)  # what remains is an untouched offer, if any
            return True
        return False

    def _routings_unsaved(self) -> bool:
        """The modulation matrix's edits: routings other than the preset's (no draft keeps them)."""
        engine = self.runtime.engine
        return engine.modulation.routings != engine.preset.modulation

    def operator_quit(self) -> None:
        """Ctrl+Q: quit, asking first about unsaved edits."""
        if self._may_close():
            self.quit()

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
        if item.command in DRAFT_FIRST and self._draft_dirty:
            self._keep_draft(self._preset_seen)  # before an act change or a recall, not a refresh later
        self.runtime.engine.inputs.put(item)

    def set_param(self, name: str, value: object) -> None:
        self.runtime.engine.inputs.put(ParamInput(name, value, "ui"))

    def edit(self, name: str, value: Value) -> None:
        self.history.record(name, self.runtime.engine.bank.target(name), value)
        self.set_param(name, value)
        self._draft_dirty = True

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
            if command is Command.PANIC:  # the edits are kept as a draft and offered back
                self._keep_draft(self._preset_seen)
                self.history.clear()
                self._offer_draft()
        elif name == "fullscreen":
            for window in self.outputs.windows:
                window.toggle_full_screen()
        elif name == "mapping":
            self.control.tabs.setCurrentWidget(self.mapping_editor)
        elif name == "modulation":
            self.matrix.show_routings(self.runtime.engine.modulation.routings)
            self.matrix.show()
            self.matrix.raise_()
        elif name in ("undo", "redo") and self.mapping_current():
            getattr(self.mapping_editor, name)()
        elif name in ("undo", "redo"):
            edit = self.history.undo() if name == "undo" else self.history.redo()
            if edit is not None:
                self.set_param(edit.name, edit.before if name == "undo" else edit.after)
                self._draft_dirty = True
        elif name == "save" and self.mapping_current():
            self.mapping_editor.save()
        elif name == "save":
            self.save(None)
        elif name == "save_as":
            text, ok = QInputDialog.getText(self.control, "Save as new user preset",
                                            "Name (lower-case letters, digits, - and _):")
            if ok and text:
                self.save(text.strip())
        elif name == "quit":
            self.operator_quit()

    def save(self, name: str | None) -> None:
        """Save the edits into the user's preset folder (atomic, with backups), then follow that file."""
        engine = self.runtime.engine
        chain = engine.effects.entries(engine.preset.effects, engine.bank.base_snapshot())  # live ones too
        preset = replace(replace(engine.preset, effects=chain).with_params(self.history.edited_values()),
                         modulation=engine.modulation.routings)
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
        left = self._preset_seen
        if engine.recall(target, crossfade_s=0.0):
            self._preset_seen = engine.preset
        if self._preset_seen.name != left.name:  # saved as a new preset: the edits live there now
            offered, self._offered = self._offered, None
            self.control.draft_banner.withdraw()
            try:  # an offer not taken up stays for when the preset left comes again
                if offered is not None and offered.preset == left.name:
                    write_draft(self.user, left.name, offered.values, now=offered.saved_at)
                else:
                    delete_draft(self.user, left.name)
            except (OSError, ValueError, LoadError) as error:
                self.report(f"keeping the draft of {left.name}: {error}")
        self._keep_draft(self._preset_seen)  # saved: the draft is gone (but for an offer not taken up)
        self.browser.reload()


def png_bytes(image: QImage, width: int) -> bytes:
    """``image`` as a PNG at most ``width`` wide (never enlarged: the same size as a headless member's)."""
    scaled = image.scaledToWidth(min(width, image.width()), Qt.TransformationMode.SmoothTransformation)
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
    except (ValueError, LoadError) as error:  # a screen that is not there, a broken venue file
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
