"""``myco nodes record`` listening for real oscsend and mosquitto_pub traffic, then ``myco nodes replay``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests import services
from tests.waiting import Lines, wait_for


def test_record_osc_and_mqtt_then_replay(tmp_path: Path, mqtt_broker: services.Mosquitto) -> None:
    port = services.free_port()
    out = tmp_path / "live.jsonl"
    recorder = subprocess.Popen(
        [sys.executable, "-m", "installation", "nodes", "record", "--out", str(out), "--osc", f"127.0.0.1:{port}",
         "--mqtt", mqtt_broker.url, "--seconds", "4"], stderr=subprocess.PIPE, text=True)
    assert recorder.stderr is not None
    log = Lines(recorder, recorder.stderr)
    try:
        log.wait_for("OSC listening on", 30, "the recorder's OSC server")
        log.wait_for("MQTT subscribed to", 30, "the recorder's MQTT subscription")
        for value in (0.1, 0.2, 0.3):
            subprocess.run([shutil.which("oscsend") or "oscsend", "127.0.0.1", str(port), "/myco/node/pod1", "ff",
                            str(value), "0.5"], check=True, timeout=10)
            subprocess.run([shutil.which("mosquitto_pub") or "mosquitto_pub", "-p", str(mqtt_broker.port), "-t",
                            "myco/nodes/pod2", "-m", json.dumps({"potential_mv": value})], check=True, timeout=10)
            time.sleep(0.2)  # a node's readings come apart in time, as a real node's do: pacing, not waiting
        subprocess.run([shutil.which("oscsend") or "oscsend", "127.0.0.1", str(port), "/myco/node/BAD", "f", "1"],
                       check=True, timeout=10)
        err = log.finish(timeout=30)
    finally:
        if recorder.poll() is None:
            recorder.kill()
    assert recorder.returncode == 0, err
    records = [json.loads(line) for line in out.read_text().splitlines()]
    readings = [r for r in records if r["type"] == "reading"]
    assert [r["potential_mv"] for r in readings if r["node"] == "pod1"] == [0.1, 0.2, 0.3]
    assert [r["potential_mv"] for r in readings if r["node"] == "pod2"] == [0.1, 0.2, 0.3]
    assert {r["source"] for r in readings} == {"osc", "mqtt"}
    assert [r["t"] for r in readings] == sorted(r["t"] for r in readings)
    assert "recorded 6 readings" in err and "bad_id" in err

    replay = subprocess.run([sys.executable, "-m", "installation", "nodes", "replay", str(out), "--out",
                             str(tmp_path / "world.jsonl")], capture_output=True, text=True, timeout=60)
    assert replay.returncode == 0, replay.stderr
    assert "replayed 6 readings" in replay.stderr and "2 nodes" in replay.stderr
    world = [json.loads(line) for line in (tmp_path / "world.jsonl").read_text().splitlines()[1:]]
    live = [r for r in world if r["type"] == "reading" and r["source"] == "live"]
    assert {r["node"] for r in live} == {"pod1", "pod2"}


def test_send_a_recording_as_live_nodes(tmp_path: Path, mqtt_broker: services.Mosquitto) -> None:
    from installation.core.events import InputQueue
    from installation.inputs.mqtt import MqttListener
    from installation.inputs.osc import OscListener
    from installation.nodes.mux import NodeMux
    from installation.nodes.recording import RecordingWriter
    from installation.sim.defaults import demo_seed
    from installation.sim.kernel import Kernel

    recording = tmp_path / "sim.jsonl"
    kernel = Kernel(demo_seed(81, 4), grid=(18, 32))
    with RecordingWriter(recording, "simulate") as out:
        for step in range(30):
            out.frame(kernel.step(1 / 60, (), {}), readings=step % 10 == 9)  # 3 x 4 readings over 0.5 s
    mux = NodeMux(Kernel(demo_seed(82, 2), grid=(18, 32)))
    osc = OscListener(mux, InputQueue(), port=0)
    mqtt = MqttListener(mux, mqtt_broker.url)
    with osc, mqtt:
        wait_for(lambda: mqtt.connected, 10, "the listener to subscribe")
        for target in (["--osc", f"127.0.0.1:{osc.port}"], ["--mqtt", mqtt_broker.url]):
            sent = subprocess.run([sys.executable, "-m", "installation", "nodes", "send", str(recording), *target],
                                  capture_output=True, text=True, timeout=60)
            assert sent.returncode == 0 and "sent 12 readings" in sent.stderr, sent.stderr
        wait_for(lambda: sum(c["accepted"] for c in mux.counters.snapshot().values()) >= 24, 10,
                 "the 24 readings sent")
    counts = mux.counters.snapshot()
    assert counts["osc"]["accepted"] == 12 and counts["mqtt"]["accepted"] == 12
    frame = mux.step(1 / 60, (), {"nodes.fade_s": 0.0})
    assert {"n000", "n001", "n002", "n003"} <= {n for n, live in zip(frame.node_ids, frame.live, strict=True) if live}
