"""The room's speakers through a real JACK server: a venue with 4 and with 8 speakers, started as
``myco run`` starts sound (:func:`installation.app.wiring.start_audio`), nodes sounding one after
the other at known positions, every output recorded with jack_rec; each speaker's share of each
node's energy is the DBAP gain of the node's position, and output k is the venue's channel k."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from installation.app.options import RunOptions
from installation.app.wiring import start_audio
from installation.core.events import Event, EventKind
from installation.core.venue import Venue, load_venue
from installation.synth.spatial import dbap_gains
from tests import services
from tests.audio_helpers import record
from tests.core.synth_frames import STEP_S, frame
from tests.test_audio import realtime_server
from tests.waiting import wait_for

SLOT_S = 0.5  # one node sounds per slot; its pluck (decay 0.08 s) is 50 dB down by the next
LEAD_S = 0.7  # jack_rec connects before the first note
# only the nodes' voices: no drone, reverb or noise in the shares
QUIET = {"synth.drone_level": -60.0, "synth.reverb_mix": 0.0, "synth.texture_level": -60.0,
         "synth.density": 1.0, "synth.voice_decay": 0.08, "synth.voice_timbre": "pluck"}


def ring(count: int) -> list[tuple[float, float]]:
    angles = 2 * np.pi * np.arange(count) / count
    return [(round(0.5 + 0.45 * float(np.sin(a)), 4), round(0.5 - 0.45 * float(np.cos(a)), 4)) for a in angles]


def venue_file(folder: Path, positions: list[tuple[float, float]], channels: list[int], ahead: int = 2) -> Venue:
    text = '[venue]\ntitle = "speakers"\n\n[[output]]\nname = "wall"\n\n[audio]\ndevice = "system"\n'
    text += f"channels = {len(positions)}\nahead = {ahead}\n"
    for index, ((x, y), channel) in enumerate(zip(positions, channels, strict=True)):
        text += f'\n[[speaker]]\nname = "s{index}"\nposition = [{x}, {y}]\nchannel = {channel}\n'
    path = folder / "room.toml"
    path.write_text(text)
    return load_venue(path)


def onsets(samples: np.ndarray, rate: int = 48000) -> list[int]:
    """Sample indices where a note starts: a 2.5 ms frame 20 dB above the 10 ms before it."""
    hop = rate // 400
    energy = np.sum(samples[: len(samples) // hop * hop].astype(np.float64) ** 2, axis=1).reshape(-1, hop).sum(axis=1)
    floor = energy.max() * 1e-4
    found: list[int] = []
    for k in range(4, len(energy)):
        if energy[k] > floor and energy[k] > 100 * energy[k - 4:k].mean() + 1e-12 and (
                not found or k * hop - found[-1] > 0.25 * rate):
            found.append(k * hop)
    return found


def play_nodes(audio: object, positions: list[tuple[float, float]]) -> None:
    """60 Hz frames of a world whose nodes stand at ``positions``; node k spikes in slot k (slots
    timed by the clock, not by the frames: a late frame on a busy machine moves no note nearer)."""
    world = frame(0, nodes=len(positions), density=0.0, flow=0.0)
    world = dataclasses.replace(world, positions=np.array(positions, np.float32))
    start = time.monotonic()
    step, node = 0, 0
    while node < len(positions) or time.monotonic() < start + LEAD_S + SLOT_S * node:
        events: tuple[Event, ...] = ()
        if node < len(positions) and time.monotonic() >= start + LEAD_S + SLOT_S * node:
            events = (Event(EventKind.SPIKE, t=(step + 1) * STEP_S, node=f"n{node}", strength=1.0),)
            node += 1
        audio.push(dataclasses.replace(world, step=step, t=(step + 1) * STEP_S, events=events), QUIET)  # type: ignore[attr-defined]
        step += 1
        time.sleep(STEP_S)


@pytest.mark.parametrize(("count", "speakers", "channels", "others"), [
    # four corners, wired out of order: the back-left speaker is output 1
    (4, [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)], [4, 2, 3, 1], [(0.5, 0.5), (0.3, 0.7)]),
    (8, ring(8), list(range(1, 9)), [(0.5, 0.5), (0.7, 0.35)]),
])
def test_each_speakers_share_is_the_dbap_gain_of_the_nodes_position(
        jack_server: services.Jack, tmp_path: Path, count: int, speakers: list[tuple[float, float]],
        channels: list[int], others: list[tuple[float, float]]) -> None:
    realtime_server(jack_server)
    venue = venue_file(tmp_path, speakers, channels)
    audio, notice = start_audio(RunOptions(), venue)
    assert audio is not None, notice
    assert notice == f"playing on system ({count} channels, {count} speakers)"
    try:
        wait_for(lambda: audio.status()["running"], 20, "the audio process to play")
        status = audio.status()
        assert status["channels"] == count and status["device"] == "system"
        by_channel = sorted(zip(channels, (f"s{i}" for i in range(count)), strict=True))
        assert status["speakers"] == [name for _, name in by_channel]
        nodes = speakers + others
        ports = tuple(f"myco:out_{i}" for i in range(count))
        seconds = LEAD_S + SLOT_S * len(nodes) + 1.0  # a margin for a busy machine
        live = record(tmp_path / "room.wav", seconds, ports, during=lambda: play_nodes(audio, nodes))
    finally:
        audio.stop()
    assert live.shape[1] == count
    starts = onsets(live)
    assert len(starts) == len(nodes), starts
    positions = np.array(speakers, np.float64)
    outputs = np.array(channels) - 1
    for index, ((x, y), begin, end) in enumerate(zip(nodes, starts, [*starts[1:], len(live)], strict=True)):
        segment = live[begin: min(end, begin + int(0.45 * 48000))].astype(np.float64)
        energy = np.sum(segment ** 2, axis=0)
        share = energy / energy.sum()
        expected = np.zeros(count)
        expected[outputs] = dbap_gains(x, y, positions) ** 2
        if index < count:  # a node at a speaker: that speaker's output carries most of it
            assert int(np.argmax(share)) == outputs[index], (index, share)
            assert share[outputs[index]] > 0.8, share
        audible = expected > 0.01
        difference_db = 10 * np.log10(share[audible] / expected[audible])
        assert np.abs(difference_db).max() < 1.0, (index, (x, y), share.round(4), expected.round(4))
        if np.std(expected) > 1e-3:  # (at the centre of the quad all four are equal: no pattern to correlate)
            assert np.corrcoef(share, expected)[0, 1] > 0.95


def test_myco_run_opens_the_venues_channels_and_names_its_speakers(jack_server: services.Jack, tmp_path: Path) -> None:
    venue = venue_file(tmp_path, [(0.0, 0.5), (0.33, 0.5), (0.67, 0.5), (1.0, 0.5)], [1, 2, 3, 4], ahead=3)
    assert venue.path is not None
    port = services.free_port()
    process = subprocess.Popen([sys.executable, "-m", "installation", "run", "--headless", "--no-visuals",
                                "--venue", str(venue.path), "--status", f"127.0.0.1:{port}", "--seconds", "30"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ))
    audio: dict[str, object] = {}

    def playing() -> bool:
        nonlocal audio
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2) as response:
                audio = json.load(response).get("audio", {})  # {} until the runtime first publishes
        except OSError:
            return False
        return bool(audio.get("running"))

    try:
        wait_for(playing, 30, "myco run to play on the venue's speakers", process=process)
    finally:
        process.terminate()
        process.wait(20)
    assert audio["device"] == "system" and audio["channels"] == 4 and audio["ahead_blocks"] == 3
    assert audio["speakers"] == ["s0", "s1", "s2", "s3"]
    assert audio["notice"] == "playing on system (4 channels, 4 speakers)"
