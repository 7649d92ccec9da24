"""Helpers for the realtime audio tests: feeding frames, recording with jack_rec."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from installation.audio.engine import AudioEngine
from installation.synth.offline import read_wav
from tests.core.synth_frames import frame
from tests.services import require


class Feeder:
    """Pushes synthetic frames at 60 Hz, as the engine tick would; ``busy`` runs between ticks."""

    def __init__(self, engine: AudioEngine, **state: object) -> None:
        self.engine = engine
        self.state = state
        self.step = 0
        self.push_ms: list[float] = []

    def run(self, seconds: float, busy: Callable[[], None] | None = None) -> None:
        start = time.monotonic()
        next_tick = start
        while time.monotonic() - start < seconds:
            now = time.monotonic()
            if now >= next_tick:
                before = time.perf_counter()
                self.engine.push(frame(self.step, **self.state), {})  # type: ignore[arg-type]
                self.push_ms.append((time.perf_counter() - before) * 1000)
                self.step += 1
                next_tick += 1 / 60
            if busy is not None:
                busy()
            else:
                time.sleep(max(0.0, min(0.005, next_tick - time.monotonic())))  # the 60 Hz pace is the test's


def record(path: Path, seconds: float, ports: tuple[str, ...] = ("myco:out_0", "myco:out_1"),
           during: Callable[[], None] | None = None) -> np.ndarray:
    """Record our output ports with jack_rec (on the server in JACK_DEFAULT_SERVER)."""
    binary = require("jack_rec")
    process = subprocess.Popen([binary, "-f", str(path), "-d", str(seconds), *ports],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(os.environ))
    if during is not None:
        during()
    output, _ = process.communicate(timeout=seconds + 20)
    assert process.returncode == 0, output.decode(errors="replace")
    samples, rate = read_wav(path)
    assert rate == 48000
    return samples


def band_levels(x: np.ndarray, rate: int = 48000) -> tuple[np.ndarray, np.ndarray]:
    """Third-octave band levels (dB) of the mono sum from 50 Hz to 12 kHz."""
    mono = x.mean(axis=1)
    power = np.abs(np.fft.rfft(mono * np.hanning(len(mono)))) ** 2 / len(mono)
    freqs = np.fft.rfftfreq(len(mono), 1 / rate)
    centres = 50 * 2 ** (np.arange(0, 28) / 3)
    levels = np.array([10 * np.log10(power[(freqs >= c / 2 ** (1 / 6)) & (freqs < c * 2 ** (1 / 6))].sum() + 1e-20)
                       for c in centres])
    return centres, levels
