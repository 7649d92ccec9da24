"""Audio: synth block cost, offline render speed, and underflows with the main process busy.

- ``block_ms_*`` / ``block_load_*``: one synth block (256 frames at 48 kHz) with a busy
  network (spikes, story events, toxin, waste grains), timed in this process, as a fraction
  of the block period (5.33 ms). ``dbap8_block_*``: the same with eight venue speakers in a
  ring, every sound placed by DBAP (:mod:`installation.synth.spatial`).
- ``offline_*_x_realtime``: synthetic frames, and a shipped show through the engine and the
  simulation (what ``myco render-audio`` does).
- ``separate_process`` vs ``in_process``: the same synth playing through JACK (dummy driver,
  48 kHz / 256) while the main process runs renderer-like work (pure Python holding the GIL
  plus numpy) and pushes frames at 60 Hz; first in Myco's separate audio process, then in a
  sounddevice callback inside the busy process itself, side by side in the same run.
  jackd gets real-time scheduling as on a show machine; both callbacks ask for it too.
  ``machine_stalls_per_min``: moments when this machine could not run a real-time thread of
  higher priority than Myco's for 2.5 ms or more (:mod:`tests.stalls`), and the underflows
  that fell in them.
- ``beside_render``: the audio test's worst case, ``myco render`` 1280x720 on llvmpipe beside
  the audio engine: the callback's own load, the synth thread's, starved callbacks, and the
  underflows no witnessed stall explains.
- ``ordinary_runs``: jackd started as a user would, and on it one after the other the minimal
  sounddevice client (the control), ``myco run --headless --no-visuals`` and ``myco run
  --headless``, 10 minutes each (30 s with ``--quick``), every underflow set against the
  machine's stalls.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from installation.app.compose import render_show_audio  # noqa: E402
from installation.core.events import Event, EventKind  # noqa: E402
from installation.synth.offline import render_stream  # noqa: E402
from installation.synth.spatial import SpeakerLayout  # noqa: E402
from installation.synth.synth import Synth  # noqa: E402
from tests.audio_helpers import busy_main_process, since  # noqa: E402
from tests.core.synth_frames import STEP_S, frame, frames  # noqa: E402
from tests.stalls import StallWitness  # noqa: E402
from tests.waiting import wait_for  # noqa: E402

RATE, BLOCK = 48000, 256
PERIOD_MS = 1000 * BLOCK / RATE
STATE = {"density": 0.5, "flow": 0.6, "toxin": 0.3, "waste": 0.4}


def busy_events(step: int) -> tuple[Event, ...]:
    kinds = (EventKind.SURGE, EventKind.DISRUPTION, EventKind.SHIELD, EventKind.BLOOM, EventKind.INTERFERENCE)
    events = [Event(EventKind.SPIKE, t=(step + 0.5) * STEP_S, node=f"n{step % 6}", strength=1.5)]
    if step % 120 == 0:
        events.append(Event(kinds[(step // 120) % len(kinds)], t=step * STEP_S, strength=2.0))
    return tuple(events)


def ring_layout(count: int) -> SpeakerLayout:
    """``count`` speakers evenly around the canvas, on outputs 1..count."""
    angles = 2 * np.pi * np.arange(count) / count
    return SpeakerLayout(tuple((0.5 + 0.45 * float(np.sin(a)), 0.5 - 0.45 * float(np.cos(a))) for a in angles),
                         tuple(range(count)))


def block_cost(seconds: float, channels: int = 2, speakers: SpeakerLayout | None = None) -> dict[str, float]:
    synth = Synth(RATE, channels, BLOCK, speakers=speakers)
    synth.set_params({"synth.density": 1.0})
    out = np.zeros((BLOCK, channels), np.float32)
    times = []
    blocks_per_step = RATE * STEP_S / BLOCK
    for k in range(round(seconds * RATE / BLOCK)):
        if k % 3 == 0:
            step = int(k / blocks_per_step)
            synth.push_frame(frame(step, events=busy_events(step), **STATE), {})  # type: ignore[arg-type]
        start = time.perf_counter()
        synth.process(out)
        times.append((time.perf_counter() - start) * 1000)
    p50, p99 = np.percentile(times, [50, 99])
    return {"block_ms_p50": float(p50), "block_ms_p99": float(p99), "block_load_p50": float(p50 / PERIOD_MS),
            "block_load_p99": float(p99 / PERIOD_MS), "voices_at_end": synth.modes.voices}


def offline_speed(seconds: float) -> dict[str, float]:
    events = {k: busy_events(k) for k in range(round(seconds * 60))}
    synthetic = frames(seconds, events, **STATE)
    start = time.perf_counter()
    render_stream(synthetic, {"synth.density": 1.0}, STEP_S, seconds)
    synthetic_x = seconds / (time.perf_counter() - start)
    start = time.perf_counter()
    render_show_audio("elara-mural", seconds)
    show_x = seconds / (time.perf_counter() - start)
    return {"offline_synthetic_x_realtime": synthetic_x, "offline_show_x_realtime": show_x}


def feed(push: Any, seconds: float, busy: bool) -> None:
    start = time.monotonic()
    next_tick, step = start, 0
    while time.monotonic() - start < seconds:
        if time.monotonic() >= next_tick:
            push(frame(step, events=busy_events(step), **STATE))  # type: ignore[arg-type]
            step += 1
            next_tick += STEP_S
        if busy:
            busy_main_process()
        else:
            time.sleep(0.002)


def separate_process(seconds: float) -> dict[str, Any]:
    from installation.audio.engine import AudioEngine

    engine = AudioEngine()
    engine.start(None, RATE, BLOCK, 2)
    try:
        deadline = time.monotonic() + 20
        while not engine.status().get("running") and time.monotonic() < deadline:
            time.sleep(0.1)
        feed(lambda f: engine.push(f, {}), 2.0, busy=False)
        with StallWitness() as witness:
            before = engine.status()
            feed(lambda f: engine.push(f, {}), seconds, busy=True)
            after = engine.status()
    finally:
        engine.stop()
    minutes = seconds / 60
    count = after["underflows"] - before["underflows"]
    in_stalls = sum(witness.explains(at) is not None for at in after["recent_underflows"][-count:]) if count else 0
    return {"underflows_per_min": count / minutes,
            "underflows_in_machine_stalls_per_min": in_stalls / minutes,
            "machine_stalls_per_min": len(witness.stalls) / minutes,
            "late_callbacks_per_min": (after["late_callbacks"] - before["late_callbacks"]) / minutes,
            "callback_load_p50": after["load_p50"], "callback_load_p99": after["load_p99"],
            "callback_priority": after.get("callback_priority", ""), "dropped_messages": engine.dropped}


def in_process(seconds: float) -> dict[str, Any]:
    """The comparison case: the synth's callback in the busy process (run in a child Python)."""
    result = subprocess.run([sys.executable, __file__, "--in-process", str(seconds)], capture_output=True,
                            text=True, timeout=seconds + 120, env=dict(os.environ))
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed"}
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def _in_process_main(seconds: float) -> None:
    import sounddevice as sd

    from installation.audio.devices import find_output, list_devices
    from installation.audio.process import AudioConfig, Player
    from installation.synth.summary import summarise

    player = Player(AudioConfig())
    player.warm_up()
    player.start_synth_thread()
    device = find_output(list_devices(sd), None, 2)
    assert device is not None, "no output device"
    with sd.OutputStream(device=device.index, samplerate=RATE, blocksize=BLOCK, channels=2, dtype="float32",
                         latency="low", callback=player.callback):
        def push(f: Any) -> None:
            player.inbox.append(("frame", summarise(f), None))

        feed(push, 2.0, busy=False)
        underflows, late = player.underflows.count, player.late
        feed(push, seconds, busy=True)
        figures = player.figures()
    minutes = seconds / 60
    print(json.dumps({"underflows_per_min": (player.underflows.count - underflows) / minutes,
                      "late_callbacks_per_min": (player.late - late) / minutes,
                      "callback_load_p50": figures["load_p50"], "callback_load_p99": figures["load_p99"],
                      "callback_priority": player.thread_priority}))


MINIMAL_CLIENT = r"""
import json, sys, time
import numpy as np
import sounddevice as sd
seconds, phase, flagged, calls = float(sys.argv[1]), [0.0], [], [0]
step = 2 * np.pi * 440 / 48000
def callback(out, frames, time_info, status):
    if status.output_underflow:
        flagged.append(time.monotonic())
    out[:, :] = (0.1 * np.sin(phase[0] + step * np.arange(frames)))[:, None]
    phase[0] += step * frames
    calls[0] += 1
with sd.OutputStream(samplerate=48000, blocksize=256, channels=2, dtype="float32", latency="low", callback=callback):
    time.sleep(seconds)
print(json.dumps({"callbacks": calls[0], "underflow_times": flagged}))
"""


def minimal_client(seconds: float, env: dict[str, str]) -> dict[str, Any]:
    """The control: a sine in a plain sounddevice callback, nothing else in its process."""
    with StallWitness() as witness:
        result = subprocess.run([sys.executable, "-c", MINIMAL_CLIENT, str(seconds)], capture_output=True,
                                text=True, timeout=seconds + 60, env=env, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return _underflow_figures(seconds, report["callbacks"], report["underflow_times"], witness)


def myco_headless(seconds: float, env: dict[str, str], visuals: bool) -> dict[str, Any]:
    """``myco run --headless`` (the default show; with or without its offscreen visuals) for
    ``seconds`` of playing, its audio figures read from /status as an operator would."""
    from tests.services import free_port, myco_status

    port = free_port()
    arguments = ["run", "--headless", "--seconds", str(seconds + 30), "--status", f"127.0.0.1:{port}"]
    audio: dict[str, Any] = {}
    with StallWitness() as witness, subprocess.Popen(
            [sys.executable, "-m", "installation", *arguments, *([] if visuals else ["--no-visuals"])],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as process:
        try:
            first: dict[str, Any] = {}
            while process.poll() is None:
                time.sleep(1.0)
                audio = (myco_status(port) or {}).get("audio", {})
                if not first and audio.get("running"):
                    first, started = audio, time.monotonic()
                if first and time.monotonic() - started >= seconds:
                    break
        finally:
            process.terminate()
            process.wait(30)
    if not first:
        return {"error": "the sound never started"}
    figures = _underflow_figures(seconds, audio["callbacks"] - first["callbacks"],
                                 since(first, audio, "underflows", "recent_underflows"), witness)
    starved = since(first, audio, "starved", "recent_starved")
    figures.update(starved=len(starved), starved_in_machine_stalls=sum(witness.explains(at) is not None
                                                                       for at in starved),
                   **{key: audio[key] for key in ("load_p50", "load_p99", "load_max", "synth_load_p50",
                                                  "synth_load_p99", "synth_load_max", "callback_priority")})
    return figures


def _underflow_figures(seconds: float, callbacks: int, times: list[float], witness: StallWitness) -> dict[str, Any]:
    in_stalls = sum(witness.explains(at) is not None for at in times)
    return {"seconds": seconds, "callbacks": callbacks, "underflows": len(times),
            "underflows_in_machine_stalls": in_stalls, "machine_stalls": len(witness.stalls),
            "machine_stall_ms_max": max((stall.ms for stall in witness.stalls), default=0.0)}


def ordinary_runs(seconds: float) -> dict[str, Any]:
    """jackd started as a user would (``jackd -d dummy``, 48 kHz / 256, real-time by default),
    and on it, one after the other in this run: the minimal client, then Myco headless without
    and with its visuals. An underflow in a stall of the machine is the machine's; one that the
    minimal client does not have, and no stall explains, is Myco's."""
    name = f"myco-bench-user-{uuid.uuid4().hex[:6]}"
    env = dict(os.environ, JACK_DEFAULT_SERVER=name, JACK_NO_START_SERVER="1", JACK_NO_AUDIO_RESERVATION="1")
    from tests import services

    services.reclaim_dead_jack_servers()
    jackd = subprocess.Popen(["jackd", "-n", name, "-d", "dummy", "-r", str(RATE), "-p", str(BLOCK)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        wait_for(lambda: services.jack_running(name), 15, "jackd -d dummy", process=jackd)
        return {"minimal_client": minimal_client(seconds, env),
                "myco_headless_no_visuals": myco_headless(seconds, env, visuals=False),
                "myco_headless": myco_headless(seconds, env, visuals=True)}
    finally:
        services.stop(jackd)


def beside_render(seconds: float) -> dict[str, Any]:
    """The audio test's worst case, measured: ``myco render`` 1280x720 on llvmpipe beside Myco's
    audio engine on a real-time JACK server of its own (tests/test_audio.py)."""
    import tempfile

    from installation.audio.engine import AudioEngine
    from tests import services
    from tests.audio_helpers import beside_myco_render

    jack = services.start_jack(f"myco-bench-beside-{uuid.uuid4().hex[:6]}")
    saved = {key: os.environ.get(key) for key in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER")}
    os.environ.update(jack.env())
    engine = AudioEngine()
    try:
        subprocess.run(["chrt", "-a", "-f", "-p", "70", str(jack.process.pid)], check=True)
        engine.start(None, RATE, BLOCK, 2)
        wait_for(lambda: engine.status().get("running"), 20, "the audio process to play")
        with tempfile.TemporaryDirectory() as folder:
            figures = beside_myco_render(engine, Path(folder), seconds)
    finally:
        engine.stop()
        services.stop(jack.process)
        _restore(saved)
    figures["unexplained_underflows"] = len(figures["unexplained_underflows"])
    figures["unexplained_starved"] = len(figures["unexplained_starved"])
    return figures


def _restore(saved: dict[str, str | None]) -> None:
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def run(quick: bool = False) -> dict[str, Any]:
    from tests import services

    results: dict[str, Any] = {"block_frames": BLOCK, "sample_rate_hz": RATE}
    results.update(block_cost(5.0 if quick else 30.0))
    # the venue's speakers: eight around the room, every sound placed by DBAP
    eight = block_cost(5.0 if quick else 30.0, 8, ring_layout(8))
    results.update({f"dbap8_{key}": value for key, value in eight.items() if key.startswith("block_")})
    results.update(offline_speed(5.0 if quick else 20.0))
    seconds = 10.0 if quick else 60.0
    jack = services.start_jack(f"myco-bench-audio-{uuid.uuid4().hex[:6]}")
    saved = {key: os.environ.get(key) for key in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER")}
    os.environ.update(jack.env())
    try:
        chrt = subprocess.run(["chrt", "-a", "-f", "-p", "70", str(jack.process.pid)], capture_output=True, text=True)
        results["jackd_realtime"] = chrt.returncode == 0
        results["busy_seconds"] = seconds
        results["separate_process"] = separate_process(seconds)
        results["in_process"] = in_process(seconds)
    finally:
        services.stop(jack.process)
        _restore(saved)
    results["beside_render"] = beside_render(seconds)
    results["ordinary_runs"] = ordinary_runs(30.0 if quick else 600.0)
    results["headline"] = headline(results)
    return results


def headline(results: dict[str, Any]) -> dict[str, Any]:
    """The figures the README shows: Myco's own underflows and loads beside the control's."""
    beside, runs = results["beside_render"], results["ordinary_runs"]
    minutes = runs["minimal_client"]["seconds"] / 60
    rows: dict[str, Any] = {"minutes_each": minutes}
    for name, run in runs.items():
        rows[f"{name}.underflows"] = f"{run['underflows']} ({run['underflows_in_machine_stalls']} in machine stalls)"
        if "starved" in run:
            rows[f"{name}.starved"] = f"{run['starved']} ({run['starved_in_machine_stalls']} in machine stalls)"
    rows.update({"beside_render.callback_load_p50_p99": f"{beside['callback_load_p50']} / "
                                                         f"{beside['callback_load_p99']}",
                 "beside_render.synth_load_p50_p99": f"{beside['synth_load_p50']} / {beside['synth_load_p99']}",
                 "beside_render.unexplained_underflows": beside["unexplained_underflows"],
                 "beside_render.unexplained_starved": beside["unexplained_starved"],
                 "in_busy_process.underflows_per_min": results["in_process"].get("underflows_per_min")})
    return rows


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--in-process":
        _in_process_main(float(sys.argv[2]))
    else:
        print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
