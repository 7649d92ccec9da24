"""What listening costs the audio process, and how far the scope is from what is heard.

Side by side on one real-time JACK server (``jackd -d dummy``, 48 kHz / 256), in alternating
rounds of the same length, the audio engine fed 60 frames a second of a busy network:

- the control: no analysis (``analysis=False``) and no room input;
- listening: the scope of what is played and a room input (``myco:in_0``) fed a tone with a
  click every half second by a JACK client of the benchmark, analysed into the room's features.

In both the benchmark's JACK client plays (into Myco's input only when listening) and its main
thread reads ``scope()`` and ``features()`` every 2 ms, so the rounds differ by Myco's listening alone.

Each reports the callback's and the synth thread's time per block (fractions of the 5.33 ms
period, p50 / p99 over the round), the analysis thread's CPU share, underflows and starved
callbacks. Listening also reports the scope's delay: when the reader first sees each scope
minus when its last sample is heard (``Scope.heard_at``: the callback's time plus PortAudio's
output latency); negative means the scope arrives before its sound reaches the output.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from installation.audio.engine import AudioEngine
from tests.audio_helpers import STATE, Feeder
from tests.test_audio_analysis import BLOCK, RATE, JackTester, tone
from tests.waiting import wait_for


def clicks_on(signal: np.ndarray) -> np.ndarray:
    """``signal`` (one second) with a click every half second."""
    out = signal.copy()
    burst = 0.6 * np.sin(2 * np.pi * 3000 * np.arange(48) / RATE) * np.exp(-np.arange(48) / 12)
    for at in (0, RATE // 2):
        out[at:at + 48] += burst
    return out


def one_round(seconds: float, listening: bool) -> dict[str, Any]:
    audio = AudioEngine()
    audio.start(None, RATE, BLOCK, 2, input_device="system" if listening else None, analysis=listening)
    tester = JackTester(seconds=1.0)
    delays: list[float] = []
    try:
        wait_for(lambda: audio.status().get("running"), 30, "the audio process to play")
        tester.set_signal(clicks_on(tone(110.0, 0.2)))
        if listening:
            wait_for(lambda: audio.status().get("input_state") == "listening", 10, "the room input")
            tester.play_into_myco()
        feeder = Feeder(audio, **STATE)
        feeder.run(2.0)
        before = audio.status()
        last = [0.0]

        def watch() -> None:
            scope = audio.scope()
            audio.features()
            if scope.heard_at != last[0]:
                last[0] = scope.heard_at
                delays.append(time.monotonic() - scope.heard_at)
            time.sleep(0.002)

        feeder.run(seconds, busy=watch)
        after = audio.status()
        features = dict(audio.features())
    finally:
        tester.close()
        audio.stop()
    figures: dict[str, Any] = {
        "callback_load_p50": after["load_p50"], "callback_load_p99": after["load_p99"],
        "synth_load_p50": after["synth_load_p50"], "synth_load_p99": after["synth_load_p99"],
        "analysis_cpu_percent": after["analysis_cpu_percent"],
        "underflows": after["underflows"] - before["underflows"], "starved": after["starved"] - before["starved"],
        "analysis_dropped": after["analysis_dropped"]}
    if listening:
        ms = 1000 * np.array(delays[1:])
        figures.update({"scopes_per_s": round(len(delays) / seconds, 1),
                        "scope_delay_ms_p50": round(float(np.percentile(ms, 50)), 2),
                        "scope_delay_ms_p99": round(float(np.percentile(ms, 99)), 2),
                        "scope_delay_ms_min": round(float(ms.min()), 2),
                        "output_latency_ms": after["output_latency_ms"],
                        "room_beat_bpm": round(features["room.beat_bpm"], 1),
                        "room_low": round(features["room.low"], 4)})
    return figures


def run(quick: bool = False) -> dict[str, Any]:
    from tests import services

    seconds, rounds = (8.0, 1) if quick else (30.0, 2)
    jack = services.start_jack(f"myco-bench-listen-{uuid.uuid4().hex[:6]}")
    saved = {key: os.environ.get(key) for key in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER")}
    os.environ.update(jack.env())
    results: dict[str, Any] = {"seconds_per_round": seconds, "rounds": rounds}
    try:
        chrt = subprocess.run(["chrt", "-a", "-f", "-p", "70", str(jack.process.pid)], capture_output=True, text=True)
        results["jackd_realtime"] = chrt.returncode == 0
        runs: dict[str, list[dict[str, Any]]] = {"control": [], "listening": []}
        for _ in range(rounds):  # alternating, so both see the machine's load alike
            runs["control"].append(one_round(seconds, listening=False))
            runs["listening"].append(one_round(seconds, listening=True))
    finally:
        services.stop(jack.process)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    for name, figures in runs.items():  # the median of each figure over the rounds
        results[name] = {key: round(float(np.median([f[key] for f in figures])), 4) for key in figures[0]}
    control, listening = results["control"], results["listening"]
    results["headline"] = {
        "callback_load_p99.control_listening": f"{control['callback_load_p99']} / {listening['callback_load_p99']}",
        "synth_load_p99.control_listening": f"{control['synth_load_p99']} / {listening['synth_load_p99']}",
        "analysis_cpu_percent": listening["analysis_cpu_percent"],
        "scope_delay_ms_p50_p99": f"{listening['scope_delay_ms_p50']} / {listening['scope_delay_ms_p99']}",
        "output_latency_ms": listening["output_latency_ms"]}
    return results


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
