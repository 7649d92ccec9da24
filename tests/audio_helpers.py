"""Helpers for the realtime audio tests: feeding frames, recording with jack_rec."""

from __future__ import annotations

import contextlib
import gc
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from installation.audio.engine import AudioEngine
from installation.synth.offline import read_wav
from tests.core.synth_frames import frame
from tests.services import jack_connected, require
from tests.stalls import StallWitness
from tests.waiting import wait_for

STATE = {"density": 0.5, "flow": 0.6, "toxin": 0.3}  # a busy network: drone, spikes, some dissonance


class Feeder:
    """Pushes synthetic frames at 60 Hz, as the engine tick would; ``busy`` runs between ticks."""

    def __init__(self, engine: AudioEngine, **state: object) -> None:
        self.engine = engine
        self.state = state
        self.step = 0
        self.push_ms: list[float] = []

    def run(self, seconds: float, busy: Callable[[], None] | None = None) -> None:
        collector = CollectorTime()
        gc.callbacks.append(collector)
        try:
            self._run(seconds, busy, collector)
        finally:
            gc.callbacks.remove(collector)

    def _run(self, seconds: float, busy: Callable[[], None] | None, collector: CollectorTime) -> None:
        start = time.monotonic()
        next_tick = start
        while time.monotonic() - start < seconds:
            now = time.monotonic()
            if now >= next_tick:
                world = frame(self.step, **self.state)  # type: ignore[arg-type]
                # the push alone: making the test's frame is not the app's work, nor is a collection
                # of this pytest process's heap, which holds a whole suite's objects
                before, collected = time.perf_counter(), collector.seconds
                self.engine.push(world, {})
                self.push_ms.append((time.perf_counter() - before - (collector.seconds - collected)) * 1000)
                self.step += 1
                next_tick += 1 / 60
            if busy is not None:
                busy()
            else:
                time.sleep(max(0.0, min(0.005, next_tick - time.monotonic())))  # the 60 Hz pace is the test's


class CollectorTime:
    """A ``gc.callbacks`` entry that adds up the time the garbage collector ran in this thread."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._thread = threading.get_ident()
        self._started = 0.0

    def __call__(self, phase: str, _info: dict[str, int]) -> None:
        if threading.get_ident() != self._thread:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started


def record(path: Path, seconds: float, ports: tuple[str, ...] = ("myco:out_0", "myco:out_1"),
           during: Callable[[], None] | None = None) -> np.ndarray:
    """Record our output ports with jack_rec (on the server in JACK_DEFAULT_SERVER)."""
    binary = require("jack_rec")
    process = subprocess.Popen([binary, "-f", str(path), "-d", str(seconds), *ports],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(os.environ))
    if during is not None:
        # what ``during`` plays must reach the file: on a busy machine jack_rec took longer to start
        # and connect than a test's lead-in, and the first note was never recorded
        wait_for(lambda: jack_connected(ports[0]), 20, "jack_rec to connect to our output")
        during()
    output, _ = process.communicate(timeout=seconds + 20)
    assert process.returncode == 0, output.decode(errors="replace")
    samples, rate = read_wav(path)
    assert rate == 48000
    return samples


def band_levels(x: np.ndarray, rate: int = 48000, segment: int = 4800) -> tuple[np.ndarray, np.ndarray]:
    """Third-octave band levels (dB) of the mono sum from 50 Hz to 12 kHz: per band, the power of
    the median 0.1 s segment. The median, not the mean: a dropout (a late cycle of a busy
    machine's JACK server) is a click whose broadband energy lifts the quiet bands of the
    segments it falls in, and only those (with the mean, three dropouts in three seconds moved
    the band levels' correlation with the offline render from 0.99 to 0.97, and a CI run with
    34 ms stalls measured 0.945; with the median, ten dropouts move it by 0.0003)."""
    mono = x.mean(axis=1)
    count = len(mono) // segment
    segments = mono[:count * segment].reshape(count, segment) * np.hanning(segment)
    power = np.median(np.abs(np.fft.rfft(segments, axis=1)) ** 2, axis=0) / segment
    freqs = np.fft.rfftfreq(segment, 1 / rate)
    centres = 50 * 2 ** (np.arange(0, 28) / 3)
    levels = np.array([10 * np.log10(power[(freqs >= c / 2 ** (1 / 6)) & (freqs < c * 2 ** (1 / 6))].sum() + 1e-20)
                       for c in centres])
    return centres, levels


def busy_main_process() -> None:
    """What the UI and the engine tick do to the main process: pure Python holding the GIL, and numpy."""
    total = 0
    for i in range(20000):
        total += i * i % 7
    np.fft.rfft(np.random.default_rng(total).random(1 << 15))


@contextlib.contextmanager
def myco_render(folder: Path) -> Iterator[Callable[[], int]]:
    """``myco render`` of the festival at 1280x720 in a child process, rendering when this yields;
    yields a function that says how many frames it has rendered so far."""
    log_path = folder / "render.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "installation", "render", "--show", "kai-festival",
                                    "--seconds", "90", "--size", "1280x720", "--fps", "30",
                                    "--out", str(folder / "busy.mp4")], stdout=log, stderr=log)

    def frames_done() -> int:
        counts = re.findall(r"\] (\d+)/\d+ frames", log_path.read_text(errors="replace"))
        return int(counts[-1]) if counts else 0

    try:
        wait_for(lambda: frames_done() > 0 or process.poll() is not None, 90, "myco render to start rendering")
        assert process.poll() is None, log_path.read_text()
        yield frames_done
        assert process.poll() is None, f"myco render stopped: {log_path.read_text()[-2000:]}"
    finally:
        process.kill()
        process.wait()


def beside_myco_render(engine: AudioEngine, folder: Path, seconds: float) -> dict[str, Any]:
    """Feed ``engine`` at 60 Hz for ``seconds`` while ``myco render`` renders 1280x720 beside it
    and this process does GIL-holding work between ticks; the audio figures of that time, with
    the machine's own stalls and the underflows that none of them explains."""
    feeder = Feeder(engine, **STATE)
    feeder.run(2.0)
    with myco_render(folder) as frames_done, StallWitness() as witness:
        before, frames_before = engine.status(), frames_done()
        feeder.run(seconds, busy=busy_main_process)
        after, frames_rendered = engine.status(), frames_done() - frames_before
    underflows = since(before, after, "underflows", "recent_underflows")
    starved = since(before, after, "starved", "recent_starved")
    return {"seconds": seconds, "callbacks": after["callbacks"] - before["callbacks"], "underflows": len(underflows),
            "unexplained_underflows": [at for at in underflows if witness.explains(at) is None],
            "starved": len(starved), "unexplained_starved": [at for at in starved if witness.explains(at) is None],
            "machine_stalls": len(witness.stalls),
            "machine_stall_ms_max": max((stall.ms for stall in witness.stalls), default=0.0),
            "late_callbacks": after["late_callbacks"] - before["late_callbacks"],
            "callback_load_p50": after["load_p50"], "callback_load_p99": after["load_p99"],
            "callback_load_max": after["load_max"], "synth_load_p50": after["synth_load_p50"],
            "synth_load_p99": after["synth_load_p99"], "synth_load_max": after["synth_load_max"],
            "callback_errors": after["callback_errors"], "restarts": after["restarts"],
            "dropped_messages": engine.dropped, "frames_rendered": frames_rendered,
            "push_ms_p50": round(float(np.median(feeder.push_ms)), 3), "load_average": os.getloadavg()}


def since(before: dict[str, Any], after: dict[str, Any], counter: str, times: str) -> list[float]:
    """The ``time.monotonic()`` of each ``counter`` occurrence between two audio status reports."""
    count = after[counter] - before[counter]
    recent = after[times][-count:] if count else []
    assert count <= len(recent), f"more {counter} than the status keeps the times of: {count}"
    return list(recent)
