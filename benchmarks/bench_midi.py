"""MIDI latency: a controller's message on a JACK port until the parameter is applied.

A test controller (rtmidi virtual port on ``jackd -d dummy``, 48 kHz / 256 frames) sends
a CC; we time from ``send_message`` to (1) the input sitting in the engine's queue and
(2) the value applied to the bank by a consumer draining the queue the way the engine's
fixed 60 Hz step does. Both include JACK's own period (up to 5.3 ms at 256 frames). Also
the pure mapping layer's cost per message, and a note's way to the sound (_note_to_sound).
Uses the running JACK server named by ``JACK_DEFAULT_SERVER``, otherwise starts its own.
"""

from __future__ import annotations

import os
import random
import statistics
import threading
import time
import uuid
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
        deadline = time.monotonic() + 5
        while not midi.open_ports() and time.monotonic() < deadline:
            time.sleep(0.01)
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

    from installation.audio.engine import AudioEngine
    from installation.inputs.midi import MidiInputs

    audio = AudioEngine()
    audio.start(None, 48000, 256, 2)
    try:
        deadline = time.monotonic() + 30
        while not audio.status().get("running") and time.monotonic() < deadline:
            time.sleep(0.05)
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
            deadline = time.monotonic() + 5
            while not midi.open_ports() and time.monotonic() < deadline:
                time.sleep(0.01)
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
    finally:
        audio.stop()
    stage = _percentiles(midi_ms)
    return {"midi_stage_ms": stage, "audio_stage_ms_p50": status.get("event_latency_ms_p50"),
            "audio_stage_ms_p99": status.get("event_latency_ms_p99"), "audio_events": status.get("events"),
            "total_ms_p50_estimate": stage["p50"] + float(status.get("event_latency_ms_p50") or 0.0),
            "goal_ms": 10.0}


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
        return {
            "jack": "dummy driver, 48000 Hz, 256 frames (5.33 ms period)",
            "midi_layer_only": _latency(count, None),
            "engine_60hz": _latency(count, 60.0),
            "mapping_us_per_message": _mapping_cost(2000 if quick else 20000),
            "note_to_sound": _note_to_sound(20 if quick else 100),
        }
    finally:
        if own is not None:
            stop(own.process)
            for key in own.env():
                os.environ.pop(key, None)
