"""Offline rendering: frames to samples, and samples to a WAV file.

Deterministic for the same frames and seed (the synth's random choices come from its own
seeded generator). A whole show is played through the engine by
:func:`installation.app.compose.render_show_audio`. World time and sample time stay locked: the
frame of step ``k`` covers samples from ``round(k * step_s * rate)``, so the audio lines up
with video rendered from the same show at the same step rate.
"""

from __future__ import annotations

import wave
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from installation.core.frames import WorldFrame
from installation.core.params import Value
from installation.synth.summary import summarise
from installation.synth.synth import Synth

ParamsOf = Callable[[], Mapping[str, Value]]


def render_stream(frames: Iterable[WorldFrame], params: Mapping[str, Value] | ParamsOf, step_s: float,
                  seconds: float, sample_rate: int = 48000, channels: int = 2, block: int = 256,
                  seed: int = 0, bpm: float = 0.0) -> NDArray[np.float32]:
    """Render ``seconds`` of audio from frames arriving ``step_s`` apart: (samples, channels) float32.

    ``params`` is a mapping, or a function called after each frame (a bank's snapshot), so
    parameter changes from a show reach the synth at their step. With ``bpm``, a steady tempo
    whose beat 0 is at time 0 (``synth.quantize`` follows it).
    """
    synth = Synth(sample_rate, channels, block, seed)
    total = round(seconds * sample_rate)
    out = np.zeros((total + block, channels), np.float32)
    source = iter(frames)
    pushed = 0
    for start in range(0, total, block):
        # push every frame that begins before this block ends, so its events are never late
        while round(pushed * step_s * sample_rate) < start + block:
            frame = next(source, None)
            if frame is None:
                break
            current = params() if callable(params) else params
            summary = summarise(frame)
            if bpm > 0:
                summary = replace(summary, beat=frame.t * bpm / 60.0, bpm=bpm)
            synth.push_summary(summary, current, start_sample=round(pushed * step_s * sample_rate), step_s=step_s)
            pushed += 1
        synth.process(out[start:start + block])
    return out[:total]


def write_wav(path: Path, samples: NDArray[np.float32], sample_rate: int, bits: int = 24) -> None:
    """Write float samples (frames, channels) in -1..1 as 16- or 24-bit PCM, atomically."""
    if bits not in (16, 24):
        raise ValueError("bits must be 16 or 24")
    data = np.clip(np.nan_to_num(samples, nan=0.0), -1.0, 1.0)
    if data.ndim == 1:
        data = data[:, None]
    scale = (1 << (bits - 1)) - 1
    ints = np.round(data * scale).astype("<i4")
    if bits == 16:
        raw = ints.astype("<i2").tobytes()
    else:
        raw = ints.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    path = Path(path)
    partial = path.with_name(path.name + ".part")
    with wave.open(str(partial), "wb") as out:
        out.setnchannels(data.shape[1])
        out.setsampwidth(bits // 8)
        out.setframerate(sample_rate)
        out.writeframes(raw)
    partial.replace(path)


def read_wav(path: Path) -> tuple[NDArray[np.float32], int]:
    """Read a 16/24/32-bit PCM WAV into float32 (frames, channels) and its sample rate."""
    with wave.open(str(path), "rb") as source:
        channels, width, rate = source.getnchannels(), source.getsampwidth(), source.getframerate()
        raw = source.readframes(source.getnframes())
    if width == 3:
        bytes3 = np.frombuffer(raw, np.uint8).reshape(-1, 3)
        ints = (bytes3[:, 0].astype(np.int32) | (bytes3[:, 1].astype(np.int32) << 8)
                | (bytes3[:, 2].astype(np.int8).astype(np.int32) << 16))
    else:
        ints = np.frombuffer(raw, {2: "<i2", 4: "<i4"}[width]).astype(np.int32)
    scale = float(1 << (8 * width - 1))
    return (ints.astype(np.float32) / scale).reshape(-1, channels), rate
