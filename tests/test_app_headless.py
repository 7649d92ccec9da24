"""``myco run --headless`` as a real process: nodes over OSC (oscsend), /status over HTTP."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
import urllib.request
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from tests.services import Jack, Mosquitto, free_port, myco_status, require
from tests.waiting import wait_for

MYCO = [sys.executable, "-m", "installation"]


@contextlib.contextmanager
def myco_run(*args: str, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[str]]:
    """``myco run ARGS`` as a child process (output in its stdout), killed if it outlives the block."""
    # the with block waits for the process and closes its pipe, also when the test failed
    with subprocess.Popen([*MYCO, "run", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True) as process:
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()


def fetch(port: int, path: str) -> bytes | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as reply:
            return reply.read()  # type: ignore[no-any-return]
    except OSError:
        return None


def child_pids(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in children.read_text().split()] if children.exists() else []


def record(ports: list[str], seconds: float, path: Path) -> NDArray[np.float64]:
    """Record ``ports`` with jack_rec and return the samples (frames, channels) in -1..1."""
    subprocess.run([require("jack_rec"), "-f", str(path), "-d", str(seconds), "-b", "16", *ports],
                   check=True, capture_output=True, timeout=seconds + 20)
    with wave.open(str(path)) as recording:
        assert recording.getframerate() == 48000
        raw = recording.readframes(recording.getnframes())
        channels = recording.getnchannels()
    return np.frombuffer(raw, "<i2").reshape(-1, channels) / 32768.0


def wait_for_status(port: int, ready: Callable[[dict[str, Any]], bool], what: str, timeout: float = 8.0,
                    process: subprocess.Popen[str] | None = None) -> dict[str, Any]:
    """Poll /status (rebuilt once a second) until ``ready`` holds; return that document."""
    def ready_report() -> dict[str, Any] | None:
        report = myco_status(port)
        return report if report is not None and report.get("state") != "starting" and ready(report) else None

    return wait_for(ready_report, timeout, f"/status to show {what}", process=process, every=0.2)


def running(pid: int) -> bool:
    """Alive and not a zombie (an exited child waiting for a reaper has ended)."""
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


def myco_ports() -> list[str]:
    listed = subprocess.run([require("jack_lsp")], capture_output=True, text=True, timeout=10).stdout.split()
    return [port for port in listed if port.startswith("myco:")]


def test_headless_runs_ten_seconds_with_sound_osc_nodes_and_status(tmp_path: Path, jack_server: Jack) -> None:
    oscsend = require("oscsend")
    status_port, osc_port = free_port(), free_port()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("DISPLAY", None)
    started = time.monotonic()
    with myco_run("--headless", "--no-visuals", "--seconds", "10", "--status", f"127.0.0.1:{status_port}",
                  "--osc", f"127.0.0.1:{osc_port}", env=env) as process:
        wait_for_status(status_port, lambda r: r["audio"].get("running"), "the sound playing", timeout=20,
                        process=process)
        ports = myco_ports()
        assert ports, "no myco ports on JACK"
        sound = record(ports, 1.5, tmp_path / "myco.wav")
        rms = float(np.sqrt(np.mean(sound**2)))
        assert rms > 1e-3, f"silence from {ports}: rms {rms}"
        assert np.abs(sound).max() < 1.0, "clipping"
        for i in range(25):  # 2.5 s of readings from two gallery nodes, and one bad packet
            for node, mv in (("gallery-1", 0.4), ("gallery-2", -0.3)):
                subprocess.run([oscsend, "127.0.0.1", str(osc_port), f"/myco/node/{node}", "ffff",
                                str(mv + 0.01 * i), "0.2", "0.3", "0.6"], check=True)
            time.sleep(0.1)  # a node's pace (10 Hz), not a wait: the show's position is checked after
        subprocess.run([oscsend, "127.0.0.1", str(osc_port), "/myco/nonsense", "i", "1"], check=True)
        report = wait_for_status(status_port, lambda r: r["nodes"].get("gallery-2", {}).get("last", {})
                                 .get("moisture") == 0.6 and r["inputs"]["osc"]["received"] == 51,
                                 "every OSC message")
        assert report["show"] == "kai-festival" and report["act"] == "The living city"
        assert report["act_index"] == 0 and report["position_s"] > 2.0
        assert report["fps"] > 40, report["fps"]  # with no visuals, every engine step counts as a frame
        assert report["frame_ms"]["p99"] > 0
        assert report["visuals"] == "off (--no-visuals)" and fetch(status_port, "/preview.png") is None
        assert report["nodes"]["gallery-1"]["live"] is True
        assert report["nodes"]["gallery-2"]["last"]["moisture"] == 0.6
        assert any(not node["live"] for node in report["nodes"].values()), "simulated nodes are listed too"
        osc = report["inputs"]["osc"]
        assert osc["received"] == 51 and osc["dropped"] == {"unknown_address": 1}
        assert report["params"]["show.time_scale"] == 1.0
        audio = report["audio"]
        assert audio["running"] is True and 0 < audio["load"] < 1 and audio["underflows"] >= 0
        with urllib.request.urlopen(f"http://127.0.0.1:{status_port}/metrics", timeout=2) as reply:
            metrics = reply.read().decode()
        assert 'myco_node_live{node="gallery-1"} 1' in metrics
        assert 'myco_input_dropped_total{source="osc",reason="unknown_address"} 1' in metrics
        children = child_pids(process.pid)
        assert children, "the audio engine runs in its own process"
        output, _ = process.communicate(timeout=20)
    elapsed = time.monotonic() - started
    assert process.returncode == 0, output
    assert 10 <= elapsed < 30
    assert myco_status(status_port) is None, "status server still answering after exit"
    wait_for(lambda: not any(running(pid) for pid in children), 2, "the app's child processes to end with it")
    assert not myco_ports(), "JACK ports left behind"


def test_headless_renders_offscreen_and_serves_a_preview_every_second() -> None:
    status_port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY")}
    with myco_run("--headless", "--no-audio", "--seconds", "12", "--size", "320x180", "--quality", "low",
                  "--status", f"127.0.0.1:{status_port}", env=env) as process:
        previews: list[bytes] = []

        def new_preview() -> bool:
            png = fetch(status_port, "/preview.png")
            if png is not None and (not previews or png != previews[-1]):
                previews.append(png)
            return len(previews) == 2

        wait_for(new_preview, 20, "a new /preview.png each second", process=process, every=0.3)
        # frames drawn offscreen (llvmpipe here); fps counts the last 2 s, and the first frame
        # (shaders compiling) can take longer than that on a loaded machine
        report = wait_for_status(status_port, lambda r: r["fps"] > 1.0, "frames drawn offscreen", process=process)
        assert report["visuals"] == "on"
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    first, second = (np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), np.float32) for png in previews)
    assert first.shape == (180, 320, 3)
    assert second.std() > 8.0 and second.max() > 150, "the network glows"
    assert np.abs(second - first).mean() > 1.0, "the hyphae move between previews"


def test_size_and_no_visuals_need_headless() -> None:
    result = subprocess.run([*MYCO, "run", "--no-visuals", "--seconds", "1"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2 and "--headless" in result.stderr


def test_no_display_gives_a_clear_message() -> None:
    env = {key: value for key, value in os.environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY",
                                                                          "QT_QPA_PLATFORM")}
    result = subprocess.run([*MYCO, "run", "--seconds", "1"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "no display" in result.stderr and "myco run --headless" in result.stderr
    assert "Traceback" not in result.stderr


def test_status_beyond_loopback_needs_a_token() -> None:
    result = subprocess.run([*MYCO, "run", "--headless", "--no-audio", "--seconds", "1", "--status", "0.0.0.0:0"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "--status-token" in result.stderr and "Traceback" not in result.stderr


def test_unknown_show_is_a_clear_error() -> None:
    result = subprocess.run([*MYCO, "run", "--headless", "--no-audio", "--no-status", "--seconds", "1",
                             "--show", "no-such-show"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "no-such-show" in result.stderr and "Traceback" not in result.stderr


def test_headless_with_mqtt_nodes(mqtt_broker: Mosquitto) -> None:
    publish = require("mosquitto_pub")
    status_port = free_port()
    with myco_run("--headless", "--no-audio", "--seconds", "6", "--status", f"127.0.0.1:{status_port}",
                  "--mqtt", mqtt_broker.url) as process:
        wait_for_status(status_port, lambda r: r["inputs"].get("mqtt", {}).get("connected"),
                        "the MQTT subscription", timeout=15, process=process)
        for i in range(15):
            subprocess.run([publish, "-p", str(mqtt_broker.port), "-t", "myco/nodes/roof-sensor", "-m",
                            json.dumps({"potential_mv": 0.2 + 0.01 * i, "toxin": 0.7, "waste": 0.1,
                                        "moisture": 0.3})], check=True, timeout=10)
            time.sleep(0.1)  # a node's pace (10 Hz), not a wait
        subprocess.run([publish, "-p", str(mqtt_broker.port), "-t", "myco/nodes/roof-sensor", "-m", "{oops"],
                       check=True, timeout=10)
        report = wait_for_status(status_port, lambda r: r["nodes"].get("roof-sensor", {}).get("last", {})
                                 .get("toxin") == 0.7, "the live reading")  # once the live fade-in is complete
        assert report["nodes"]["roof-sensor"]["live"] is True
        assert report["nodes"]["roof-sensor"]["last"]["toxin"] == 0.7
        mqtt = report["inputs"]["mqtt"]
        assert mqtt["connected"] is True and mqtt["received"] == 16 and mqtt["dropped"] == {"malformed": 1}
        output, _ = process.communicate(timeout=20)
        assert process.returncode == 0, output


def test_headless_output_follows_a_quality_change_and_keeps_drawing(qt_session: object) -> None:
    # in this process, on the test X server: vispy takes one GL backend per process, and the
    # render tests that follow need PySide6's (EGL, with no display, is for myco processes)
    from installation.app.compose import build_runtime
    from installation.app.headless import HeadlessOutput
    from installation.app.options import RunOptions

    options = RunOptions(headless=True, audio=False, status=None, headless_size=(160, 90))
    runtime = build_runtime(options)
    output = HeadlessOutput(runtime)
    try:
        assert output.quality == "medium"
        now = 100.0
        for _ in range(3):
            now += 0.05
            assert output.show(runtime.engine.advance(0.05), now)
        runtime.engine.bank.set("render.quality", "low", "ui")
        now += 0.05
        assert output.show(runtime.engine.advance(0.05), now)
        assert output.quality == "low" and output.offscreen.renderer.quality == "low"
        assert output.offscreen.snapshot().std() > 3.0, "the rebuilt renderer draws"
    finally:
        output.close()
