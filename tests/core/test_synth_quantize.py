"""synth.quantize: spike voices land on the tempo's grid (measured in an offline render)."""

from __future__ import annotations

import numpy as np
import pytest

from installation.core.events import Event, EventKind
from installation.core.params import Value
from installation.synth.offline import render_stream
from installation.synth.synth import Synth
from tests.core.sound_measures import onsets
from tests.core.synth_frames import STEP_S, frames

RATE = 48000
BPM = 120.0  # a beat every 0.5 s
SPIKE_EVERY = 41  # steps: 0.683 s, off every grid
QUIET: dict[str, Value] = {"synth.drone_level": -60.0, "synth.texture_level": -60.0, "synth.event_level": -60.0,
         "synth.reverb_mix": 0.0, "synth.voice_level": 0.0, "synth.voice_decay": 0.15, "synth.density": 1.0,
         "synth.voice_timbre": "pluck"}


def spike_onsets(quantize: str) -> list[float]:
    events: dict[int, tuple[Event, ...]] = {k: (Event(EventKind.SPIKE, (k + 1) * STEP_S, 1.0, node="n1"),)
                                            for k in range(20, 480, SPIKE_EVERY)}
    audio = render_stream(frames(8.0, events), {**QUIET, "synth.quantize": quantize}, STEP_S, 8.5, RATE, bpm=BPM)
    latency = Synth(RATE).limiter.window / RATE  # the limiter's lookahead delays everything alike
    return [t - latency for t in onsets(audio, RATE)]


@pytest.mark.parametrize(("quantize", "grid_s"), [("1/4", 0.5), ("1/8", 0.25), ("1/16", 0.125)])
def test_spike_voices_land_on_the_grid(quantize: str, grid_s: float) -> None:
    found = spike_onsets(quantize)
    assert len(found) == len(range(20, 480, SPIKE_EVERY))
    spikes = [(k + 1) * STEP_S for k in range(20, 480, SPIKE_EVERY)]
    for spike, onset in zip(spikes, found, strict=True):
        line = np.ceil(spike / grid_s - 1e-9) * grid_s
        # the first sample over the threshold, within a millisecond of the grid line after the spike
        assert line <= onset < line + 0.001, (spike, onset, line)


def test_without_quantize_they_sound_when_they_spike() -> None:
    found = spike_onsets("off")
    spikes = [(k + 1) * STEP_S for k in range(20, 480, SPIKE_EVERY)]
    assert np.allclose(found, spikes, atol=0.001)
    off_grid = [t for t in found if min(t % 0.125, 0.125 - t % 0.125) > 0.01]
    assert len(off_grid) > len(found) // 2  # the control: most spikes are not on any grid
