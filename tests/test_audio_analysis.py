"""Myco hears itself and the room, through a real JACK server (``jackd -d dummy``).

A JACK client of the test's own plays known signals into Myco's input port (``myco:in_0``) and
records Myco's outputs, stamping each JACK cycle with ``time.monotonic()`` (its process callback
runs in the same cycle as Myco's, so a block's stamp is when Myco's stream sees it too); what the
audio engine reports (``features()``, ``room_onsets()``, ``scope()``) is measured against it."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from installation.app.options import RunOptions
from installation.app.wiring import start_audio
from installation.audio.engine import AudioEngine
from installation.audio.process import REALTIME_PRIORITY, raise_priority
from installation.core.venue import load_venue
from installation.synth.analysis import FFT_SIZE, WAVE_SAMPLES, scope_of, silence
from tests import services
from tests.audio_helpers import STATE, Feeder
from tests.test_audio import realtime_server
from tests.waiting import wait_for

RATE, BLOCK = 48000, 256


class JackTester:
    """A JACK client: plays ``signal`` (looped) on its output and records two inputs, stamping each cycle."""

    def __init__(self, seconds: float = 12.0) -> None:
        import jack

        self.client = jack.Client("myco-test", no_start_server=True)
        self.out = self.client.outports.register("out")
        self.ins = [self.client.inports.register(f"in_{k}") for k in range(2)]
        self.signal = np.zeros(RATE, np.float32)
        self.played = 0  # frames of ``signal`` played (from its start: set_signal starts it again)
        self.recording = np.zeros((int(seconds * RATE), 2), np.float32)
        self.recorded = 0
        self.stamps = np.zeros(int(seconds * RATE) // BLOCK + 1)  # time.monotonic() of each recorded block
        self.record = False
        self.priority = ""
        self.client.set_process_callback(self._process)
        self.client.activate()

    def _process(self, frames: int) -> None:
        now = time.monotonic()
        if not self.priority:  # as Myco's callback does: a cycle of this client is not late for others
            self.priority = raise_priority(REALTIME_PRIORITY)
        at = self.played % len(self.signal)
        out = self.out.get_array()
        out[:] = np.take(self.signal, np.arange(at, at + frames), mode="wrap")
        self.played += frames
        if self.record and self.recorded + frames <= len(self.recording):
            for k, port in enumerate(self.ins):
                self.recording[self.recorded:self.recorded + frames, k] = port.get_array()
            self.stamps[self.recorded // BLOCK] = now
            self.recorded += frames

    def set_signal(self, signal: np.ndarray) -> float:
        """Play ``signal`` from its start at the next cycle; returns when the switch was asked."""
        self.signal, self.played = signal.astype(np.float32), 0
        return time.monotonic()

    def play_into_myco(self) -> None:
        self.client.connect(self.out, "myco:in_0")

    def record_myco(self) -> None:
        """Record Myco's outputs. (Not while playing into its input: that loop in the graph would
        delay one direction by a cycle.)"""
        for k, port in enumerate(self.ins):
            self.client.connect(f"myco:out_{k}", port)

    def on_time(self) -> np.ndarray:
        """For each recorded block: did the client's cycles before and after it start a period
        apart? (One that ran late, on a busy machine, may have read Myco's ports after the next
        cycle's block was written, and its own output for that cycle reached no one.)"""
        period = BLOCK / RATE
        blocks = self.recorded // BLOCK
        regular = np.abs(np.diff(self.stamps[:blocks]) - period) < 0.5 * period
        kept = np.ones(blocks, bool)
        kept[1:] &= regular
        kept[:-1] &= regular
        return kept

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()


@pytest.fixture
def listening(jack_server: services.Jack) -> Iterator[tuple[AudioEngine, JackTester]]:
    """Myco playing and listening on ``myco:in_0``, with the test's client wired to its input and outputs."""
    realtime_server(jack_server)
    switching = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)  # the test's client waits for the GIL in every cycle: not long
    audio = AudioEngine()
    before = audio.scope()
    assert before.wave.shape == (2, WAVE_SAMPLES) and not before.wave.any() and not before.spectrum.any()
    audio.start(None, RATE, BLOCK, 2, input_device="system")
    tester = JackTester()
    try:
        wait_for(lambda: audio.status().get("input_state") == "listening", 30, "the audio process to listen")
        wait_for(lambda: "myco:in_0" in {p.name for p in tester.client.get_ports()}, 10, "myco:in_0")
        yield audio, tester
    finally:
        tester.close()
        audio.stop()
        sys.setswitchinterval(switching)
    assert not audio.status()["process_alive"]


def tone(frequency: float, amplitude: float) -> np.ndarray:
    """One second of a sine (a whole number of cycles: it loops seamlessly)."""
    return (amplitude * np.sin(2 * np.pi * frequency * np.arange(RATE) / RATE)).astype(np.float32)


def settled(audio: AudioEngine, seconds: float = 0.6) -> tuple[dict[str, float], np.ndarray]:
    """The median of each feature, and of the room's spectrum, over ``seconds`` (after the window
    has filled with the new signal; the median passes over a cycle the test's client ran late in)."""
    time.sleep(0.3)
    readings: list[dict[str, float]] = []
    spectra = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        readings.append(dict(audio.features()))
        spectra.append(audio.room_scope().spectrum)
        time.sleep(1 / 60)
    return {key: float(np.median([r[key] for r in readings])) for key in readings[0]}, np.median(spectra, axis=0)


def test_a_test_tone_lands_in_its_band_at_its_rms(listening: tuple[AudioEngine, JackTester]) -> None:
    audio, tester = listening
    tester.play_into_myco()
    for frequency, band, amplitude in [(100.0, "low", 0.5), (3000.0, "high", 0.2), (800.0, "mid", 0.05)]:
        tester.set_signal(tone(frequency, amplitude))
        heard, spectrum = settled(audio)
        rms = amplitude / np.sqrt(2)
        # within 3 % (0.25 dB) of the tone's RMS; the other bands at least 30 dB under it
        assert heard["room.level"] == pytest.approx(rms, rel=0.03), (frequency, heard, audio.status())
        assert heard[f"room.{band}"] == pytest.approx(rms, rel=0.03), (frequency, heard)
        others = [heard[f"room.{name}"] for name in ("low", "mid", "high") if name != band]
        assert max(others) < rms * 10 ** (-30 / 20), (frequency, heard)
        assert spectrum.shape == (1, FFT_SIZE // 2)
        assert int(np.argmax(spectrum[0])) == round(frequency * FFT_SIZE / RATE)
        assert np.abs(audio.room_scope().wave).max() == pytest.approx(amplitude, rel=0.02)
    tester.set_signal(np.zeros(RATE, np.float32))
    heard, spectrum = settled(audio)
    assert not spectrum.any()
    assert max(heard[f"room.{name}"] for name in ("level", "low", "mid", "high")) < 1e-6, heard
    status = audio.status()
    assert status["input_device"] == "system" and status["input_errors"] == 0 and status["running"]


def test_a_click_tracks_onsets_are_found_at_their_times_and_give_its_tempo(
        listening: tuple[AudioEngine, JackTester]) -> None:
    audio, tester = listening
    tester.play_into_myco()
    period_s, count, lead_s = 0.5, 10, 0.4  # 120 BPM
    track = np.zeros(int((lead_s + period_s * count + 1.0) * RATE), np.float32)
    starts = [round((lead_s + period_s * n) * RATE) + 37 * n for n in range(count)]  # not on block edges
    burst = 0.8 * np.sin(2 * np.pi * 3000 * np.arange(48) / RATE) * np.exp(-np.arange(48) / 12)
    for at in starts:
        track[at:at + 48] = burst
    before, _ = audio.room_onsets()
    tester.record = True  # the stamps: when each block of the track reached Myco's input
    tester.set_signal(track)
    found: list[float] = []
    pulse: list[float] = []  # room.onset, read with the onsets
    end = time.monotonic() + len(track) / RATE - 0.5
    while time.monotonic() < end:
        onsets, latest = audio.room_onsets()
        if onsets - before > len(found):
            found.append(latest)
        pulse.append(audio.features()["room.onset"])
        time.sleep(0.01)
    assert audio.features()["room.beat_bpm"] == pytest.approx(120.0, abs=1.0)
    # the pulse rises at each click and has died away (e^-3 after 0.45 s) before the next
    assert max(pulse) > 0.5 and np.percentile(pulse, 25) < 0.1, np.round(pulse, 2)
    tester.record = False
    # the track started with the first recorded block after the switch (both happen in one cycle)
    first = int(np.argmax(tester.stamps > 0))
    on_time = tester.on_time()
    expected = []
    for at in starts:
        block = first + at // BLOCK
        if on_time[block - 1:block + 2].all():  # a click the test's client played in time
            # a block's stamp is when its last frame came in (Myco's convention for its input)
            expected.append(tester.stamps[block] - (BLOCK - at % BLOCK) / RATE)
    assert count - 2 <= len(expected) and len(found) <= count, (expected, found)
    errors_ms = 1000 * np.array([min(found, key=lambda t: abs(t - e)) - e for e in expected])
    # within a hop and a half (the onset is placed at the middle of the hop it came in), plus a
    # block for the two clients' callbacks of one cycle starting at different times
    assert np.abs(errors_ms).max() < 2.5 * BLOCK / RATE * 1000, errors_ms.round(2)


def test_the_scope_is_of_what_was_played_when_it_was_heard(listening: tuple[AudioEngine, JackTester]) -> None:
    audio, tester = listening
    tester.record_myco()
    feeder = Feeder(audio, **STATE)
    feeder.run(2.0)
    tester.record = True
    scopes: list[tuple[float, Any]] = []

    def watch() -> None:
        scope = audio.scope()
        if not scopes or scope.heard_at != scopes[-1][1].heard_at:
            scopes.append((time.monotonic(), scope))
        time.sleep(0.002)  # the test's JACK client needs the GIL in every cycle

    feeder.run(3.0, busy=watch)
    tester.record = False
    recorded = tester.recording[:tester.recorded]
    status = audio.status()
    latency_s = status["output_latency_ms"] / 1000
    # a cycle in which Myco's callback ran late or found no block: JACK played something else
    # than the block Myco took (on a busy machine; they are counted, and not compared here)
    glitches = np.array(status["recent_underflows"] + status["recent_starved"])
    assert 5 < len(scopes) <= 3.2 * 60, len(scopes)  # up to 60 a second
    on_time = tester.on_time()  # blocks the test's client may have recorded wrong are not compared
    offsets = []
    for polled_at, scope in scopes[:-1]:
        # the scope's waveform is the samples played: find them in the recording
        last = scope.wave[0, -32:]
        hits = np.flatnonzero(np.all(np.lib.stride_tricks.sliding_window_view(recorded[:, 0], 32) == last, axis=1))
        end = int(hits[-1]) + 32 if len(hits) else 0  # one past its last sample
        if end < FFT_SIZE:  # the scope reaches back before the recording started
            continue
        assert end % BLOCK == 0  # whole blocks
        taken_at = tester.stamps[end // BLOCK - 1]
        span = (taken_at - (FFT_SIZE + 2 * BLOCK) / RATE, taken_at + 2 * BLOCK / RATE)
        if not on_time[(end - FFT_SIZE) // BLOCK:end // BLOCK].all() or (
                (glitches > span[0]) & (glitches < span[1])).any():
            continue
        np.testing.assert_array_equal(scope.wave, recorded[end - WAVE_SAMPLES:end].T)
        independent = scope_of(recorded[:end].astype(np.float64), RATE)
        np.testing.assert_allclose(scope.spectrum, independent.spectrum, atol=1e-4)
        # its last sample reached the output one period after the cycle that took it, plus the
        # output's latency
        offsets.append(scope.heard_at - (taken_at + BLOCK / RATE + latency_s))
        # not of a block waiting in the ring: it had been played when the reader got the scope
        # (Myco's callback and the test's run in one cycle: within a period of each other)
        assert taken_at < polled_at + BLOCK / RATE
    assert len(offsets) > 0.6 * len(scopes), (len(offsets), len(scopes))
    # in step within a block or two (the median: the two clients' callbacks of a cycle start at
    # slightly different times, more so on a busy machine; benchmarks/ has the distribution)
    assert abs(np.median(offsets)) < 2 * BLOCK / RATE, np.round(offsets, 4)
    assert silence(2, RATE).spectrum.shape == scopes[0][1].spectrum.shape


def test_an_input_that_cannot_be_opened_leaves_the_sound_playing(jack_server: services.Jack, tmp_path: Path) -> None:
    # the venue's input is JACK's, --audio-input (which wins) names none there
    venue = tmp_path / "room.toml"
    venue.write_text('[venue]\ntitle = "room"\n\n[[output]]\nname = "wall"\n\n[audio]\ninput = "system"\n'
                     'input_channels = 2\n')
    audio, notice = start_audio(RunOptions(audio_input="no such device"), load_venue(venue))
    assert audio is not None, notice
    try:
        wait_for(lambda: audio.status().get("input_state") == "unavailable", 30, "the audio process to try the input")
        status = audio.status()
        assert "no input device 'no such device' with 2 channels" in status["input_error"]
        wait_for(lambda: audio.scope().heard_at > 0, 10, "a scope of what is played")
        callbacks = audio.status()["callbacks"]
        wait_for(lambda: audio.status()["callbacks"] > callbacks + 100, 10, "the sound to play on")
        assert audio.status()["running"] and audio.features() == dict.fromkeys(audio.features(), 0.0)
    finally:
        audio.stop()
    # without the flag, the venue's input is opened: two ports
    audio, notice = start_audio(RunOptions(), load_venue(venue))
    assert audio is not None, notice
    try:
        wait_for(lambda: audio.status().get("input_state") == "listening", 30, "the venue's input")
        ports = subprocess.run(["jack_lsp"], capture_output=True, text=True, timeout=10).stdout.split()
        assert {"myco:in_0", "myco:in_1"} <= set(ports) and audio.status()["input_device"] == "system"
    finally:
        audio.stop()
