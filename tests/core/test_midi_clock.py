"""Tempo from MIDI clock (with jitter and JACK-period quantisation), start/stop, tap tempo."""

from __future__ import annotations

import random

import pytest

from installation.midi.clock import PPQN, ClockFollower, TapTempo
from tests.core.midi_helpers import Rig


def ticks(bpm: float, seconds: float, start: float = 0.0, jitter_s: float = 0.0, period_s: float = 0.0,
          seed: int = 1) -> list[float]:
    """Tick times at ``bpm``, with random jitter, rounded up to a JACK period as rtmidi sees them."""
    rng = random.Random(seed)
    spacing = 60.0 / (bpm * PPQN)
    times = []
    for index in range(int(seconds / spacing)):
        t = start + index * spacing + rng.uniform(-jitter_s, jitter_s)
        if period_s:
            t = (int(t / period_s) + 1) * period_s
        times.append(t)
    return times


@pytest.mark.parametrize("bpm", [120.0, 133.0, 87.5, 174.0])
def test_follows_within_half_a_bpm_despite_jitter_and_periods(bpm: float) -> None:
    follower = ClockFollower()
    readings = []
    for t in ticks(bpm, 6.0, jitter_s=0.002, period_s=256 / 48000):
        follower.tick(t)
        readings.append(follower.bpm)
    settled = [r for r in readings[len(readings) // 2:] if r is not None]
    assert settled and max(abs(r - bpm) for r in settled) < 0.5


def test_tempo_change_is_followed_smoothly() -> None:
    follower = ClockFollower()
    first = ticks(120.0, 4.0)
    second = ticks(126.0, 4.0, start=first[-1] + 60.0 / (126.0 * PPQN))
    seen = []
    for t in first + second:
        follower.tick(t)
        seen.append(follower.bpm or 0.0)
    steps = [abs(b - a) for a, b in zip(seen[len(first):], seen[len(first) + 1:], strict=False)]
    assert max(steps) < 1.0                          # no jump
    assert seen[-1] == pytest.approx(126.0, abs=0.5)  # and it arrives


def test_router_publishes_tempo_running_and_source() -> None:
    rig = Rig([])
    rig.send(0xFA)
    assert rig.value("midi.clock_running") is True
    last = 0.0
    for t in ticks(133.0, 5.0, start=1.0):
        rig.apply(rig.router.handle(rig.port, [0xF8], t))
        last = t
    assert rig.value("midi.tempo_bpm") == pytest.approx(133.0, abs=0.5)
    assert rig.value("midi.clock_source") == "clock"
    rig.t = last
    rig.send(0xFC)
    assert rig.value("midi.clock_running") is False
    rig.tick(2.0)                                     # the clock has gone quiet
    assert rig.value("midi.clock_source") == "tap"
    assert rig.value("midi.tempo_bpm") == pytest.approx(133.0, abs=0.5)  # the tempo stays


def test_tap_tempo_median_and_restart() -> None:
    tap = TapTempo()
    assert tap.tap(0.0) is None
    assert tap.tap(0.5) == pytest.approx(120.0)
    tap.tap(1.0)
    assert tap.tap(1.52) == pytest.approx(120.0)      # the median ignores one sloppy tap
    assert tap.tap(10.0) is None                      # a long pause starts over
    assert tap.tap(10.4) == pytest.approx(150.0)
