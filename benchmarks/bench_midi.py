"""MIDI latency: a controller's message on a JACK port until the parameter is applied.

A test controller (rtmidi virtual port on ``jackd -d dummy``, 48 kHz / 256 frames) sends
a CC; we time from ``send_message`` to (1) the input sitting in the engine's queue and
(2) the value applied to the bank by a consumer draining the queue the way the engine's
fixed 60 Hz step does. Both include JACK's own period (up to 5.3 ms at 256 frames). Also
the pure mapping layer's cost per message, and a note's way to the sound: in two stages timed
on CLOCK_MONOTONIC (_note_to_sound), and in frames on JACK's own timeline, from the frame a
note is sent at to the first frame of its sound in Myco's output port (_note_to_sound_on_jack).
Uses the running JACK server named by ``JACK_DEFAULT_SERVER``, otherwise starts its own.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import statistics
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from installation.core.events import InputQueue, ParamInput
from installation.core.params import ParamBank, float_param
from installation.midi.bindings import Binding, Control, ControlType, Takeover, Target
from installation.midi.profile import Profile
from installation.midi.router import Router


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50": statistics.median(ordered), "p99": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
            "max": ordered[-1], "n": len(ordered)}


class _TimedQueue(InputQueue):
    """The engine's queue, noting when each input arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: list[float] = []

    def put(self, item: Any) -> bool:
        self.arrived.append(time.perf_counter())
        return super().put(item)


def _wait_until(done: Callable[[], object], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        time.sleep(0.01)


@contextlib.contextmanager
def _playing_audio() -> Iterator[Any]:
    """Myco's audio engine (48 kHz / 256, stereo) playing on the JACK server in the environment."""
    from installation.audio.engine import AudioEngine

    audio = AudioEngine()
    audio.start(None, 48000, 256, 2)
    try:
        _wait_until(lambda: audio.status().get("running"), 30)
        yield audio
    finally:
        audio.stop()


def _bank() -> ParamBank:
    bank = ParamBank()
    bank.register(float_param("render.exposure", 1.0, 0.0, 4.0))
    return bank


def _profile(name: str) -> Profile:
    binding = Binding(Control(ControlType.CC, None, 7), Target.param("render.exposure"), takeover=Takeover.JUMP)
    return Profile("bench", name, (binding,))


def _latency(count: int, step_hz: float | None) -> dict[str, Any]:
    import rtmidi

    from installation.inputs.midi import MidiInputs

    name = f"bench{uuid.uuid4().hex[:6]}"
    controller = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=name)
    controller.open_virtual_port("out")
    bank, queue = _bank(), _TimedQueue()
    applied: dict[float, float] = {}  # value -> when it was applied
    stop = threading.Event()

    def engine() -> None:
        # Drain like the engine: every step at step_hz, or as fast as possible (the MIDI layer alone).
        period = 1.0 / step_hz if step_hz else 0.0002
        next_t = time.perf_counter()
        while not stop.is_set():
            for item in queue.drain():
                if isinstance(item, ParamInput):
                    bank.set(item.name, item.value, item.source)
                    applied[float(item.value)] = time.perf_counter()  # type: ignore[arg-type]
            next_t += period
            time.sleep(max(0.0, next_t - time.perf_counter()))

    consumer = threading.Thread(target=engine, daemon=True)
    to_queue, to_bank = [], []
    rng = random.Random(6)
    spec = bank.spec("render.exposure")
    with MidiInputs(queue, bank, [_profile(name)], pattern=name, learned_file=None) as midi:
        _wait_until(midi.open_ports, 5)
        consumer.start()
        for index in range(count):
            value = index % 128
            expected = float(spec.from_normalized(value / 127))  # type: ignore[arg-type]
            applied.pop(expected, None)
            arrivals = len(queue.arrived)
            sent = time.perf_counter()
            controller.send_message([0xB0, 7, value])
            deadline = time.monotonic() + 1.0
            while expected not in applied and time.monotonic() < deadline:
                time.sleep(0.0002)
            if expected in applied:  # a message JACK or a queue lost is counted, not waited for
                to_queue.append((queue.arrived[arrivals] - sent) * 1000)
                to_bank.append((applied[expected] - sent) * 1000)
            time.sleep(rng.uniform(0.002, 0.02))  # not in step with JACK's period or the engine's
        stop.set()
        consumer.join()
    controller.close_port()
    controller.delete()
    return {"to_queue_ms": _percentiles(to_queue), "to_bank_ms": _percentiles(to_bank),
            "lost": count - len(to_bank)}


def _note_to_sound(count: int) -> dict[str, Any]:
    """A note on the controller -> the synth (short path) -> the output, in two measured stages.

    Stage 1, MIDI: ``send_message`` until ``AudioEngine.push_event`` (timed here). Stage 2,
    audio: push until the block with the sound leaves for the output, as the audio process
    measures it (its callback time plus PortAudio's output latency for the JACK dummy
    driver). Both on CLOCK_MONOTONIC; not measured on recorded samples.
    """
    import rtmidi

    from installation.inputs.midi import MidiInputs

    with _playing_audio() as audio:
        name = f"bench{uuid.uuid4().hex[:6]}"
        controller = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=name)
        controller.open_virtual_port("out")
        pushed: list[float] = []

        def short_path(event: Any) -> None:
            pushed.append(time.monotonic())
            audio.push_event(event)

        profile = Profile("bench", name, (Binding(Control(ControlType.NOTE, None, 60), Target.event("bloom")),))
        midi_ms = []
        with MidiInputs(InputQueue(), _bank(), [profile], pattern=name, on_event=short_path) as midi:
            _wait_until(midi.open_ports, 5)
            for index in range(count):
                sent = time.monotonic()
                controller.send_message([0x90, 60, 100])
                controller.send_message([0x80, 60, 0])
                deadline = time.monotonic() + 1.0
                while len(pushed) <= index and time.monotonic() < deadline:
                    time.sleep(0.0002)
                if len(pushed) > index:
                    midi_ms.append((pushed[index] - sent) * 1000)
                time.sleep(0.1)
            time.sleep(0.5)
        controller.close_port()
        controller.delete()
        status = audio.status()
    stage = _percentiles(midi_ms)
    return {"midi_stage_ms": stage, "audio_stage_ms_p50": status.get("event_latency_ms_p50"),
            "audio_stage_ms_p99": status.get("event_latency_ms_p99"), "audio_events": status.get("events"),
            "total_ms_p50_estimate": stage["p50"] + float(status.get("event_latency_ms_p50") or 0.0),
            "goal_ms": 10.0}


# every spike plays (density 1), as a short pluck, with nothing else sounding
QUIET_PLUCKS = {"synth.density": 1.0, "synth.voice_timbre": "pluck", "synth.voice_decay": 0.15,
                "synth.drone_level": -60.0, "synth.texture_level": -60.0, "synth.reverb_mix": 0.0}


def _note_to_sound_on_jack(count: int, gap_s: float = 0.5) -> dict[str, Any]:
    """A note's way to the sound, in frames on JACK's own timeline.

    One JACK client of ours sends a note from a MIDI port, at the first frame of a cycle, to
    Myco's MIDI input (which sends it down the short path to the audio process), and records
    Myco's audio output port in the same graph. Latency = the first frame of the note's sound
    in Myco's output minus the frame the note was sent at. The server's own playback latency
    (what the sound card adds after the graph: the driver's period count) is reported apart.
    The note plays a spike voice (a pluck: a sharp attack) with the drone, the texture and the
    reverb turned all the way down, so each onset stands clear.
    """
    import jack
    import numpy as np

    from installation.inputs.midi import MidiInputs
    from tests.core.synth_frames import frame

    rate = 48000
    recording = np.zeros(int(((count + 3) * gap_s + 20.0) * rate), np.float32)  # + start-up and the tail
    sent_at: list[int] = []
    first_frame = [-1]
    want_note = threading.Event()
    note_off_due = [False]
    with _playing_audio() as audio:
        name = f"bench{uuid.uuid4().hex[:6]}"
        client = jack.Client(name, no_start_server=True)
        notes_out = client.midi_outports.register("out")
        ear = client.inports.register("in")

        @client.set_process_callback
        def process(frames: int) -> None:  # JACK's real-time thread: no allocation beyond the event list
            now = client.last_frame_time
            if first_frame[0] < 0:
                first_frame[0] = now
            notes_out.clear_buffer()
            if note_off_due[0]:
                notes_out.write_midi_event(0, (0x80, 60, 0))
                note_off_due[0] = False
            if want_note.is_set():
                want_note.clear()
                notes_out.write_midi_event(0, (0x90, 60, 110))
                sent_at.append(now)
                note_off_due[0] = True
            offset = now - first_frame[0]
            if offset + frames <= len(recording):
                recording[offset:offset + frames] = ear.get_array()

        audio.push(frame(0, density=0.0, flow=0.0), QUIET_PLUCKS)  # type: ignore[arg-type]
        profile = Profile("bench", name, (Binding(Control(ControlType.NOTE, None, 60), Target.event("spike")),))
        with client, MidiInputs(InputQueue(), _bank(), [profile], pattern=name, on_event=audio.push_event) as midi:
            client.connect("myco:out_0", ear)
            _wait_until(midi.open_ports, 5)
            step = 0
            for index in range(count + 3):  # the first 3 gaps: the drone of the first frame fades out
                if index >= 3:
                    want_note.set()
                due = time.monotonic() + gap_s
                while time.monotonic() < due:  # frames at 60 Hz, as the engine sends them
                    step += 1
                    audio.push(frame(step, density=0.0, flow=0.0), {})  # type: ignore[arg-type]
                    time.sleep(1 / 60)
            playback_frames = _playback_latency_frames()
    latencies_ms = []
    for sent in sent_at:
        start = sent - first_frame[0]
        before = recording[max(0, start - 4096):start]
        after = np.abs(recording[start:start + int(0.3 * rate)])
        if not len(after):
            continue
        floor = float(np.sqrt(np.mean(before ** 2))) if len(before) else 0.0
        threshold = max(0.25 * float(after.max()), 6 * floor, 1e-4)
        rising = np.flatnonzero(after > threshold)
        if len(rising) and after.max() > max(4 * floor, 0.01):  # a pluck peaks near 0.09 here
            latencies_ms.append(1000 * float(rising[0]) / rate)
    graph = _percentiles(latencies_ms) if latencies_ms else {}
    playback_ms = 1000 * playback_frames / rate
    return {"graph_ms": graph, "notes_sent": len(sent_at), "notes_heard": len(latencies_ms),
            "playback_latency_ms": playback_ms, "total_ms_p50": graph.get("p50", float("nan")) + playback_ms,
            "period_ms": 1000 * 256 / rate, "goal_ms": 10.0}


def _playback_latency_frames() -> int:
    """What the server says its playback ports add after the graph (``jack_lsp -L``)."""
    listing = subprocess.run(["jack_lsp", "-L", "system:playback_1"], capture_output=True, text=True, timeout=10)
    match = re.search(r"total latency = (\d+) frames", listing.stdout)
    return int(match.group(1)) if match else 0


def _mapping_cost(count: int) -> float:
    bank = _bank()
    router = Router([_profile("x")], [], bank.spec, lambda n: bank.snapshot().get(n))
    router.open_port("x:out")
    started = time.perf_counter()
    for index in range(count):
        router.handle("x:out", [0xB0, 7, index % 128], index * 0.001)
    return (time.perf_counter() - started) / count * 1e6


def run(quick: bool = False) -> dict[str, Any]:
    from tests.services import jack_running, start_jack, stop

    own = None
    if not (os.environ.get("JACK_DEFAULT_SERVER") and jack_running(os.environ["JACK_DEFAULT_SERVER"])):
        own = start_jack(f"myco-bench-{uuid.uuid4().hex[:6]}")
        os.environ.update(own.env())
    try:
        count = 60 if quick else 400
        results: dict[str, Any] = {
            "jack": "dummy driver, 48000 Hz, 256 frames (5.33 ms period)",
            "midi_layer_only": _latency(count, None),
            "engine_60hz": _latency(count, 60.0),
            "mapping_us_per_message": _mapping_cost(2000 if quick else 20000),
            "note_to_sound": _note_to_sound(20 if quick else 100),
            "note_to_sound_on_jack": _note_to_sound_on_jack(20 if quick else 100),
        }
        on_jack = results["note_to_sound_on_jack"]
        results["headline"] = {
            "cc_to_bank_at_60hz_ms_p50": results["engine_60hz"]["to_bank_ms"]["p50"],
            "note_to_sound_in_graph_ms_p50": on_jack["graph_ms"].get("p50"),
            "note_to_sound_in_graph_ms_p99": on_jack["graph_ms"].get("p99"),
            "note_to_sound_with_playback_ms_p50": on_jack["total_ms_p50"],
        }
        return results
    finally:
        if own is not None:
            stop(own.process)
            for key in own.env():
                os.environ.pop(key, None)
