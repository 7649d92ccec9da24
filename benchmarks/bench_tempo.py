"""MIDI clock out: how late Myco sends its ticks and what tempo reaches JACK, beside two controls.

Myco's :class:`~installation.inputs.clock_out.ClockOut` sends 24 ticks a beat at 120 BPM on
``jackd -d dummy`` (48 kHz / 256 frames); a JACK client records each tick at its frame on
JACK's timeline (``tests.test_midi_tempo.TickRecorder``). Reported: how late each tick left
the sending thread after its deadline (p50 / p99, on the monotonic clock: the sender's own
part), the tempo fitted through the ticks as JACK delivered them, and JACK's own rate (48000
frames a second when the dummy driver keeps time; when it runs slow, what reaches JACK is slow
too, whoever sends). The controls send the same ticks from a bare thread: one sleeping to
absolute deadlines (what ClockOut does, without the tempo object), one sleeping for the
interval after each send (the naive loop: its wake-ups' lateness adds up and slows the tempo).
Uses the JACK server named by ``JACK_DEFAULT_SERVER``, else its own.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
import uuid
from typing import Any

import rtmidi

from installation.core.tempo import Tempo
from installation.inputs.clock_out import CLIENT, PORT, ClockOut
from installation.midi.clock import PPQN

BPM = 120.0
TICK_S = 60.0 / (BPM * PPQN)


def _summary(late_ms: list[float], recorded: list[float], rate: float) -> dict[str, Any]:
    late = sorted(late_ms)
    fit = statistics.linear_regression(range(len(recorded)), recorded)
    return {"ticks": len(recorded), "late_ms_p50": round(statistics.median(late), 3),
            "late_ms_p99": round(late[int(0.99 * (len(late) - 1))], 3),
            "fitted_bpm_on_jack": round(60.0 / (fit.slope * PPQN), 3), "jack_rate": round(rate)}


def _myco(seconds: float) -> dict[str, Any]:
    from tests.test_midi_tempo import TICK, TickRecorder

    with ClockOut(Tempo(BPM, t=time.monotonic())) as out:
        recorder = TickRecorder(f"{CLIENT}:{PORT}")
        try:
            time.sleep(seconds)
            rate = recorder.jack_rate()
        finally:
            recorder.close()
        late = list(out.late_ms)
    return _summary(late, [t for data, t in recorder.messages if data[0] == TICK], rate)


def _control(seconds: float, absolute: bool) -> dict[str, Any]:
    from tests.test_midi_tempo import TICK, TickRecorder

    name = f"ctl{uuid.uuid4().hex[:6]}"
    out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=name)
    out.open_virtual_port("clock")
    recorder = TickRecorder(f"{name}:clock")
    stop = threading.Event()
    start = time.monotonic() + 0.1
    late: list[float] = []

    def send() -> None:
        time.sleep(max(0.0, start - time.monotonic()))
        k = 0
        while not stop.is_set():
            deadline = start + k * TICK_S
            if absolute:
                time.sleep(max(0.0, deadline - time.monotonic()))
            elif k:
                time.sleep(TICK_S)
            late.append((time.monotonic() - deadline) * 1000.0)
            out.send_message([TICK])
            k += 1

    thread = threading.Thread(target=send, daemon=True)
    try:
        thread.start()
        time.sleep(seconds)
        stop.set()
        thread.join(5)
        rate = recorder.jack_rate()
    finally:
        recorder.close()
        out.close_port()
        out.delete()
    return _summary(late, [t for data, t in recorder.messages if data[0] == TICK], rate)


def run(quick: bool = False) -> dict[str, Any]:
    from tests.services import jack_running, start_jack, stop

    own = None
    if not (os.environ.get("JACK_DEFAULT_SERVER") and jack_running(os.environ["JACK_DEFAULT_SERVER"])):
        own = start_jack(f"myco-bench-{uuid.uuid4().hex[:6]}")
        os.environ.update(own.env())
    seconds = 4.0 if quick else 15.0
    try:
        results: dict[str, Any] = {"jack": "dummy driver, 48000 Hz, 256 frames (5.33 ms period)", "bpm": BPM}
        for _ in range(1 if quick else 2):  # in turns, so the machine's load falls on each alike
            for key, measure in (("clock_out", lambda: _myco(seconds)),
                                 ("control_absolute_deadlines", lambda: _control(seconds, True)),
                                 ("control_relative_sleeps", lambda: _control(seconds, False))):
                results.setdefault(key, []).append(measure())
        results["headline"] = {
            "clock_out_late_ms_p99": max(r["late_ms_p99"] for r in results["clock_out"]),
            "absolute_deadlines_late_ms_p99": max(r["late_ms_p99"] for r in results["control_absolute_deadlines"]),
            "relative_sleeps_late_ms_p99": max(r["late_ms_p99"] for r in results["control_relative_sleeps"]),
        }
        return results
    finally:
        if own is not None:
            stop(own.process)
            for key in own.env():
                os.environ.pop(key, None)
