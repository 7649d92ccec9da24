"""``myco run --headless``: the engine, inputs and sound with no window, the visuals rendered offscreen.

The renderer runs in a hidden GL context (EGL on Mesa's surfaceless platform when there is no
display, as ``myco render`` does) at up to :data:`DRAW_HZ`, so the hyphae live exactly as they
would on a projector, and once a second a picture of them goes to ``/preview.png`` for remote
operators. A machine with no GL at all (an audio-only box) runs on without visuals and says so.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from functools import partial
from typing import Any

from PIL import Image

from installation.app.lockstep import Lockstep, publish_previews
from installation.app.runtime import Runtime
from installation.app.snapshots import SnapshotKeeper, restore_picture
from installation.app.status import PREVIEW_WIDTH
from installation.core.frames import WorldFrame, with_all_events
from installation.core.venue import OutputSpec
from installation.render.sound import live_sound

log = logging.getLogger(__name__)

DRAW_HZ = 30.0  # nobody watches a headless output; half the engine rate keeps the CPU for sound and inputs
PREVIEW_EVERY_S = 1.0


class HeadlessOutput:
    """The renderer in a hidden context, fed from the runtime's engine."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._open()
        self.problems: list[str] = []
        self._pending: list[WorldFrame] = []  # without a cluster: the frames since the last draw
        self.lockstep = Lockstep(runtime.engine) if runtime.cluster is not None else None
        self._last_draw = 0.0
        self._last_preview = 0.0

    def show(self, frames: list[WorldFrame], now: float) -> bool:
        """Take the engine's new frames; draw when one is due. True when it drew."""
        engine = self.runtime.engine
        cluster = self.runtime.cluster
        if self.lockstep is None:
            self._pending.extend(frames)
            if not self._pending or now - self._last_draw < 1.0 / DRAW_HZ:
                return False
            dt = now - self._last_draw if self._last_draw else 1.0 / DRAW_HZ
            frame, self._pending = with_all_events(self._pending), []
        else:  # a cluster member: once per render group, as every member
            due = self.lockstep.due(frames)
            if due is None:
                return False
            frame, dt = due
        self._last_draw = now
        if self._wanted_quality() != self.quality:  # its textures are sized by it: a new renderer
            log.info("output quality %s -> %s: the hyphae weave again", self.quality, self._wanted_quality())
            self.offscreen.close()
            self._open()
        self.offscreen.make_current()
        self._take_resumed()  # a cluster member that caught up from the leader's snapshot
        world = self.offscreen.world
        world.follow_effects(engine.effects.slots, live_sound(engine.effects.slots, self.runtime.audio))
        problems = [str(problem) for problem in world.step(
            frame, engine.bank.snapshot(), dt, engine.look_mix(), engine.seed)]
        if problems != self.problems:
            for problem in problems:
                log.error("%s (the output keeps the last good shader)", problem)
            self.problems = problems
        server = self.runtime.status_server
        if cluster is not None:  # at the same show steps on every member, so they can be compared
            publish_previews(self.runtime, self._whole_png,
                             [(output.name, partial(self._output_png, output)) for output in self.outputs])
            return True
        if server is None or now - self._last_preview < PREVIEW_EVERY_S:
            return True
        self._last_preview = now
        server.publish_preview(self._whole_png())
        for output in self.outputs:
            if output.name in server.wanted_outputs():
                server.publish_preview(self._output_png(output), output.name)
        return True

    def _whole_png(self) -> bytes:
        """The preview size read back from the world's picture, never the whole picture."""
        world = self.offscreen.world
        return png_bytes(world.read(size=world.preview_size(PREVIEW_WIDTH)), PREVIEW_WIDTH)

    def _output_png(self, output: OutputSpec) -> bytes:
        world = self.offscreen.world
        return png_bytes(world.read(output.region, self._output_size(output), output.mapping), PREVIEW_WIDTH)

    def _output_size(self, output: OutputSpec) -> tuple[int, int]:
        """An output's preview: :data:`PREVIEW_WIDTH` wide, its region's aspect on the canvas."""
        x0, y0, x1, y1 = output.region
        width, height = self.offscreen.world.size
        return PREVIEW_WIDTH, max(1, round(PREVIEW_WIDTH * (y1 - y0) * height / ((x1 - x0) * width)))

    def _take_resumed(self) -> None:
        engine = self.runtime.engine
        if engine.resumed is None:
            return
        restore_picture(self.offscreen.renderer, engine.resumed)  # the organism's picture, before its next step
        engine.resumed = None

    def _open(self) -> None:
        from installation.render.offscreen import Offscreen

        options = self.runtime.options
        self.quality = self._wanted_quality()
        self.offscreen = Offscreen(options.headless_size, self.quality, options.shader_dir,
                                   bank=self.runtime.engine.bank, seed=self.runtime.engine.seed.rng_seed)
        self.offscreen.renderer.hot_reload = self.runtime.cluster is None  # lockstep: the same shaders throughout
        self._take_resumed()
        venue, server = self.runtime.venue, self.runtime.status_server
        # /preview.png?output=NAME: the venue's outputs (a cluster member's own)
        self.outputs = venue.outputs_of(options.member) if venue is not None else ()
        if server is not None:
            server.set_outputs([output.name for output in self.outputs])

    def save_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The renderer's part of a snapshot, read back in the hidden context."""
        self.offscreen.make_current()
        return self.offscreen.renderer.save_state()  # type: ignore[no-any-return]

    def _wanted_quality(self) -> str:
        return self.runtime.options.quality or str(self.runtime.engine.bank.get("render.quality"))

    def close(self) -> None:
        self.offscreen.close()


def png_bytes(pixels: Any, width: int) -> bytes:
    image = Image.fromarray(pixels)
    width = min(width, image.width)
    height = max(1, round(image.height * width / image.width))
    buffer = io.BytesIO()
    image.resize((width, height), Image.Resampling.LANCZOS).save(buffer, "PNG")
    return buffer.getvalue()


def open_output(runtime: Runtime) -> HeadlessOutput | None:
    if not runtime.options.visuals:
        return None
    try:
        return HeadlessOutput(runtime)
    except Exception as error:  # no GL on this machine: sound, inputs and status go on
        log.warning("no offscreen rendering here (%s); running without visuals", error)
        runtime.output_notice = f"no visuals: {error}"
        return None


def run_headless(runtime: Runtime, stop: threading.Event) -> int:
    """Tick the engine at its fixed rate until stopped, drawing offscreen when a frame is due."""
    seconds = runtime.options.seconds
    deadline = None if seconds is None else time.monotonic() + seconds
    output = open_output(runtime)
    keeper = SnapshotKeeper(runtime.engine)
    gpu = output.save_state if output is not None else None
    cluster = runtime.cluster
    if cluster is not None:
        cluster.gpu = gpu  # the picture goes into the snapshot the leader shares
    log.info("running headless%s%s", "" if output is not None else " without visuals",
             "" if deadline is None else f" for {seconds:g} s")
    try:
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            started = time.perf_counter()
            frames = runtime.tick()
            drew = output.show(frames, time.monotonic()) if output is not None else bool(frames)
            if drew:
                runtime.clock.frame_done(time.perf_counter() - started)
            runtime.heartbeat.beat(runtime.clock.frames)  # systemd's watchdog: only while frames finish
            if frames:
                keeper.maybe_take(gpu)  # every few minutes and at each act change
                if cluster is not None:
                    cluster.maybe_publish_state()
            stop.wait(runtime.seconds_to_next_step())
        keeper.close(gpu)  # a clean exit: the last state, written before the output goes
    finally:
        keeper.join()
        if output is not None:
            output.close()
    runtime.publish_status()
    return 0
