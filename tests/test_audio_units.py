"""Pieces of the audio process that run without a device: the callback's guard, the block FIFO,
device lookup, and the render-audio command."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import sounddevice as sd

from installation.audio.devices import Device, find_output
from installation.audio.process import AudioConfig, BlockRing, Player
from installation.core.events import Event, EventKind
from installation.synth.offline import read_wav
from tests.core.synth_frames import frame
from tests.waiting import wait_for


@pytest.fixture
def new_player() -> Iterator[Callable[..., Player]]:
    """Makes players without a device; each holds a wake-up pipe, closed after the test."""
    made: list[Player] = []

    def make(ahead: int = AudioConfig.ahead) -> Player:
        made.append(Player(AudioConfig(realtime=False, ahead=ahead)))
        return made[-1]

    yield make
    for player in made:
        player.close()


def test_an_exception_in_the_synth_outputs_a_silent_block_and_is_counted(new_player: Callable[..., Player]) -> None:
    player = new_player()
    out = np.ones((256, 2), np.float32)
    player.inbox.append(("frame", None, None))  # a malformed message: push_summary(None) raises
    player.render_ahead()
    player.callback(out, 256, None, sd.CallbackFlags())
    assert player.errors == 1 and "AttributeError" in player.last_error
    assert not out.any()
    # the next blocks play again
    player.inbox.append(("event", Event(EventKind.NODE_JOINED), time.monotonic()))
    for _ in range(8):
        player.render_ahead()
        player.callback(out, 256, None, sd.CallbackFlags())
    assert np.abs(out).max() > 1e-3 and player.errors == 1 and player.starved.count == 0


def test_underflow_flags_are_counted(new_player: Callable[..., Player]) -> None:
    player = new_player()
    out = np.zeros((256, 2), np.float32)
    flags = sd.CallbackFlags()
    flags.output_underflow = True
    player.render_ahead()
    player.callback(out, 256, None, flags)
    player.callback(out, 256, None, sd.CallbackFlags())
    assert player.underflows.count == 1 and player.callbacks == 2
    assert player.figures()["load_p50"] > 0 and player.figures()["synth_load_p50"] > 0


def test_a_callback_that_finds_no_rendered_block_plays_silence_and_counts_it_as_starved(
        new_player: Callable[..., Player]) -> None:
    player = new_player(ahead=2)
    out = np.ones((256, 2), np.float32)
    player.inbox.append(("event", Event(EventKind.BLOOM, strength=2.0), time.monotonic()))
    player.render_ahead()  # fills all three slots: the one to play and two ahead
    for _ in range(3):
        player.callback(out, 256, None, sd.CallbackFlags())
    assert player.starved.count == 0 and np.abs(out).max() > 1e-4
    player.callback(out, 256, None, sd.CallbackFlags())
    assert player.starved.count == 1 and not out.any()
    assert player.figures()["starved"] == 1


def test_frames_and_params_reach_the_synth_through_the_inbox(new_player: Callable[..., Player]) -> None:
    player = new_player()
    out = np.zeros((256, 2), np.float32)
    summary_frame = frame(0, events=(Event(EventKind.SPIKE, node="n1", strength=2.0),))
    from installation.synth.summary import summarise

    player.inbox.append(("frame", summarise(summary_frame), {"synth.scale": "minor", "synth.density": 1.0}))
    player.render_ahead()
    player.callback(out, 256, None, sd.CallbackFlags())
    assert player.synth.params["synth.scale"] == "minor"
    assert player.synth.notes == 1 and player.synth.modes.voices > 0


def test_the_synth_thread_keeps_the_ring_full_and_wakes_when_a_block_is_played() -> None:
    player = Player(AudioConfig(realtime=False, ahead=2))
    thread = player.start_synth_thread()
    out = np.zeros((256, 2), np.float32)
    try:
        for _ in range(50):
            player.callback(out, 256, None, sd.CallbackFlags())
            wait_for(lambda: player.ring.free() == 0, 5, "the synth thread to render the played block again")
        assert player.starved.count == 0 and player.blocks == 50 + 3
    finally:
        player.stop()
        thread.join(5)
        player.close()
    assert not thread.is_alive()


@pytest.mark.parametrize("frames", [64, 100, 256, 300, 1000])
def test_block_ring_serves_any_callback_length_seamlessly(frames: int) -> None:
    ring = BlockRing(8, 256, 1)
    rendered = [0]

    def fill() -> None:
        while ring.free():
            ring.next_slot()[:, 0] = rendered[0] + np.arange(256)
            rendered[0] += 256
            ring.commit()

    out = np.zeros((frames, 1), np.float32)
    served = []
    for _ in range(7):
        fill()
        assert ring.read(out, frames)
        served.append(out[:, 0].copy())
    assert np.array_equal(np.concatenate(served), np.arange(7 * frames, dtype=np.float32))


def _devices() -> list[Device]:
    return [Device(0, "HDA Intel PCH: ALC892 Analog (hw:0,0)", "ALSA", 8, 2, 48000, False),
            Device(1, "system", "JACK Audio Connection Kit", 8, 2, 48000, False),
            Device(2, "USB Audio: Line (hw:1,0)", "ALSA", 2, 0, 44100, True),
            Device(3, "Mic", "ALSA", 0, 2, 44100, False)]


def test_find_output_by_name_part_index_and_default() -> None:
    devices = _devices()
    assert find_output(devices, None, 2).index == 2  # type: ignore[union-attr]
    assert find_output(devices, "usb", 2).index == 2  # type: ignore[union-attr]
    assert find_output(devices, "jack", 2).index == 1  # type: ignore[union-attr]
    assert find_output(devices, "system", 2).index == 1  # type: ignore[union-attr]
    assert find_output(devices, "1", 2).index == 1  # type: ignore[union-attr]
    assert find_output(devices, "usb", 4) is None  # too few channels
    assert find_output(devices, "mic", 1) is None  # no outputs
    assert find_output(devices, "nothing like it", 2) is None


def test_render_audio_command_writes_a_deterministic_wav_faster_than_real_time(tmp_path: Path) -> None:
    outputs = []
    for name in ("a.wav", "b.wav"):
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "installation", "render-audio", "--show", "elara-mural",
                                 "--seconds", "6", "--out", str(tmp_path / name)],
                                capture_output=True, text=True, timeout=120)
        elapsed = time.perf_counter() - started
        assert result.returncode == 0, result.stderr
        outputs.append(tmp_path / name)
    assert elapsed < 6.0  # includes interpreter start and the simulation
    assert outputs[0].read_bytes() == outputs[1].read_bytes()
    samples, rate = read_wav(outputs[0])
    assert rate == 48000 and samples.shape == (6 * 48000, 2)
    assert np.sqrt(np.mean(samples ** 2)) > 10 ** (-45 / 20)
    assert np.abs(samples).max() <= 10 ** (-0.3 / 20) + 1e-6


def test_render_audio_reports_bad_input_without_a_traceback(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "installation", "render-audio", "--show", "no-such-show",
                             "--seconds", "1", "--out", str(tmp_path / "x.wav")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "no-such-show" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "x.wav").exists()
    result = subprocess.run([sys.executable, "-m", "installation", "render-audio", "--show", "elara-mural",
                             "--seconds", "1", "--out", str(tmp_path / "x.mp3")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "wav" in result.stderr
