"""MIDI to light: a controller's fader on a JACK port until the first frame whose pixels show it.

What runs is ``myco run --headless --midi nanoKONTROL2 --midi-api jack --no-audio`` built by
the composition root (``build_runtime``, ``Runtime.start``: the shipped Korg profile, whose
slider 1, CC 0, moves ``render.exposure`` with pickup takeover), driven by the loop of
``run_headless`` (``Runtime.tick``, then ``HeadlessOutput.show``, which draws when a frame is
due), with one addition: after each drawn frame the picture is read back (``World.read``,
64x36). A frame counts as presented when ``glReadPixels`` has returned its pixels: the GPU
has finished it (a projector's swap would follow, up to one refresh with vsync).

Our JACK MIDI client (rtmidi, a virtual port named like the controller, on the running
``jackd -d dummy``, 48 kHz / 256 frames: up to 5.3 ms of JACK's own period) moves the slider
between two positions at random moments. Latency: from ``send_message`` to the end of the
read-back of the first frame whose mean brightness moved beyond the frame-to-frame noise
(``first_change``) and of the first that moved half the way to the new level (``half_way``).
Measured in turns in the same run:

- ``midi``: the shipped path;
- ``control_straight``: the same value posted straight into ``Engine.inputs`` as the MIDI
  layer posts it (no MIDI, no JACK): what the frame loop alone costs;
- ``control_glide``: the same, smoothed over the parameter's own ``smoothing_s``, as every MIDI
  move was before the MIDI layer asked for none (see docs/perform.md, "MIDI to light").
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from installation.core.events import ParamInput

PARAM = "render.exposure"
CC = 0  # slider 1 of the Korg nanoKONTROL2 (presets/midi/korg_nanokontrol2.toml)
POSITIONS = (20, 100)  # the slider's two positions (exposure 0.71 and 3.17)
SETTLE_S = 1.5  # a trial: the move at a random moment, then the picture settles (a glide takes 0.5 s)


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    if not ordered:
        return {"n": 0}
    return {"p50": round(statistics.median(ordered), 1),
            "p99": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 1),
            "max": round(ordered[-1], 1), "n": len(ordered)}


class _Headless:
    """``run_headless``'s loop, noting each drawn frame's read-back time and mean brightness."""

    def __init__(self, size: tuple[int, int], quality: str) -> None:
        from installation.app.compose import build_runtime
        from installation.app.headless import HeadlessOutput
        from installation.app.options import RunOptions

        options = RunOptions(midi="nanoKONTROL2", midi_api="jack", audio=False, status=None, headless=True,
                             headless_size=size, quality=quality, thumbnails=False)
        self.runtime = build_runtime(options).start()
        self.runtime.engine.bank.set_many({"shader.post.grain": 0.0, "show.paused": True}, "ui", immediate=True)
        self.output = HeadlessOutput(self.runtime)
        self.frames: list[tuple[float, float]] = []  # (read back at, mean luma)
        self.draw_ms: list[float] = []
        self.queued: list[float] = []  # when each change of PARAM reached the engine's queue
        queue = self.runtime.engine.inputs
        put = queue.put

        def timed_put(item: Any) -> bool:
            if isinstance(item, ParamInput) and item.name == PARAM:
                self.queued.append(time.perf_counter())
            return put(item)

        queue.put = timed_put  # type: ignore[method-assign]  # the MIDI thread posts through it

    def run_for(self, seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            started = time.perf_counter()
            frames = self.runtime.tick()
            if self.output.show(frames, time.monotonic()):
                pixels = self.output.offscreen.world.read(size=(64, 36)).astype(np.float32)
                now = time.perf_counter()
                self.frames.append((now, float((pixels @ np.array([0.2126, 0.7152, 0.0722])).mean())))
                self.draw_ms.append((now - started) * 1000)
            time.sleep(self.runtime.seconds_to_next_step())

    def close(self) -> None:
        self.output.close()
        self.runtime.stop()


def _latencies(frames: list[tuple[float, float]], sent_at: float, until: float) -> tuple[float, ...] | None:
    """(first_change ms, half_way ms, first_change frames, half_way frames) after ``sent_at``, from the
    frames read back before ``until``; a frame count of 1 is the first frame read back after the send."""
    before = [luma for t, luma in frames if sent_at - 0.5 <= t < sent_at][-5:]
    after = [(t, luma) for t, luma in frames if sent_at <= t < until]
    if len(before) < 2 or len(after) < 3:
        return None  # the machine stalled: too few frames to tell
    noise = max(0.3, 3.0 * float(np.abs(np.diff(before)).max()))
    old, new = before[-1], after[-1][1]
    if abs(new - old) < 3 * noise:
        return None  # the change never showed: counted as lost
    sign = 1.0 if new > old else -1.0
    first = next((i for i, (_, luma) in enumerate(after) if sign * (luma - old) > noise), None)
    half = next((i for i, (_, luma) in enumerate(after) if sign * (luma - old) >= 0.5 * abs(new - old)), None)
    if first is None or half is None:
        return None
    return (after[first][0] - sent_at) * 1000, (after[half][0] - sent_at) * 1000, first + 1, half + 1


def _trials(loop: _Headless, senders: dict[str, Callable[[int], object]], count: int) -> dict[str, Any]:
    """``count`` trials of each sender, in turns, each move at a random moment of a frame."""
    rng = random.Random(17)
    sent: dict[str, list[float]] = {name: [] for name in senders}
    order: list[tuple[str, float]] = []
    for index in range(count * len(senders)):
        name = list(senders)[index % len(senders)]
        position = POSITIONS[index % 2]
        stamps: list[float] = []

        def send(name: str = name, position: int = position, stamps: list[float] = stamps) -> None:
            stamps.append(time.perf_counter())
            senders[name](position)

        timer = threading.Timer(rng.uniform(0.0, 0.05), send)
        timer.start()
        loop.run_for(SETTLE_S)
        timer.join()
        sent[name].append(stamps[0])
        order.append((name, stamps[0]))
    ends = {at: (order[i + 1][1] if i + 1 < len(order) else time.perf_counter()) for i, (_, at) in enumerate(order)}
    figures: dict[str, Any] = {}
    for name, stamps_of in sent.items():
        found = [lat for at in stamps_of if (lat := _latencies(loop.frames, at, ends[at])) is not None]
        queued = [(next(q for q in loop.queued if q >= at) - at) * 1000 for at in stamps_of
                  if any(at <= q < ends[at] for q in loop.queued)]
        figures[name] = {"first_change_ms": _percentiles([lat[0] for lat in found]),
                         "half_way_ms": _percentiles([lat[1] for lat in found]),
                         "first_change_frames": _percentiles([lat[2] for lat in found]),
                         "half_way_frames": _percentiles([lat[3] for lat in found]),
                         "to_queue_ms": _percentiles(queued), "lost": len(stamps_of) - len(found)}
    return figures


def run(quick: bool = False) -> dict[str, Any]:
    import rtmidi

    count = 10 if quick else 40
    size, quality = (640, 360), "low"
    os.environ["MYCO_HOME"] = tempfile.mkdtemp(prefix="myco-bench-")  # no learned bindings of the user's
    controller = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="nanoKONTROL2")
    controller.open_virtual_port("out")
    loop = _Headless(size, quality)
    engine = loop.runtime.engine
    spec = engine.bank.spec(PARAM)
    try:
        midi = loop.runtime.part("midi")
        deadline = time.monotonic() + 10
        while not midi.open_ports() and time.monotonic() < deadline:
            loop.run_for(0.1)
        for position in range(128):  # sweep through the value: pickup takeover engages
            controller.send_message([0xB0, CC, position])
            time.sleep(0.002)
        loop.run_for(2.0)  # shaders built, the hyphae woven, the sweep's last value settled

        def value(position: int) -> object:
            return spec.from_normalized(position / 127)

        senders: dict[str, Callable[[int], object]] = {
            "midi": lambda position: controller.send_message([0xB0, CC, position]),
            "control_straight": lambda position: engine.inputs.put(ParamInput(PARAM, value(position), "midi",
                                                                              fade_s=0.0)),
            "control_glide": lambda position: engine.inputs.put(ParamInput(PARAM, value(position), "midi")),
        }
        figures: dict[str, Any] = {"output": f"headless {size[0]}x{size[1]}, quality {quality}",
                                   "smoothing_s": spec.smoothing_s, **_trials(loop, senders, count)}
        figures["draw_interval_ms_p50"] = round(float(np.median(np.diff([t for t, _ in loop.frames]))) * 1000, 1)
        figures["tick_and_draw_ms_p50"] = round(statistics.median(loop.draw_ms), 1)
    finally:
        loop.close()
        controller.close_port()
        controller.delete()
    figures["goal_ms"] = round(2000 / 60, 1)
    figures["headline"] = {
        "midi_first_change_ms_p50": figures["midi"]["first_change_ms"].get("p50"),
        "midi_first_change_ms_p99": figures["midi"]["first_change_ms"].get("p99"),
        "control_first_change_ms_p50": figures["control_straight"]["first_change_ms"].get("p50"),
        "control_first_change_ms_p99": figures["control_straight"]["first_change_ms"].get("p99"),
        "midi_first_change_frames_p50": figures["midi"]["first_change_frames"].get("p50"),
        "midi_first_change_frames_p99": figures["midi"]["first_change_frames"].get("p99"),
        "control_first_change_frames_p99": figures["control_straight"]["first_change_frames"].get("p99"),
        "midi_half_way_ms_p50": figures["midi"]["half_way_ms"].get("p50"),
        "glide_half_way_ms_p50": figures["control_glide"]["half_way_ms"].get("p50"),
        "draw_interval_ms_p50": figures["draw_interval_ms_p50"],
        "goal_ms": figures["goal_ms"],
    }
    return figures


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run("--quick" in sys.argv), indent=2))
