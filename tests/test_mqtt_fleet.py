"""5,000 sensor nodes through the real mosquitto: every reading reaches the listener, counted exactly.

The nodes are one publisher process (benchmarks/bench_nodes.py's sender: raw QoS 0 PUBLISH
packets, a topic per node, paced in 1 ms ticks), as a fleet would be many machines. The mux is
stepped at 60 Hz by an engine thread with all 5,000 nodes joined, as in the app. Midway the
listener's receiving process is stopped (SIGSTOP) for a second and a half, as a busy machine
may leave it without a core: nothing may be lost, only late (the broker and the TCP connection
hold what it has not read).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from installation.inputs.mqtt import MqttListener
from installation.nodes.mux import NodeMux
from installation.nodes.ratelimit import RateLimiter
from installation.sim.defaults import demo_seed
from installation.sim.kernel import Kernel
from tests import services
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parent.parent
NODES = 5000
HZ = 2.0
SECONDS = 4.0
PARAMS = {"nodes.fade_s": 0.0, "nodes.max_joined": float(NODES)}


def test_5000_nodes_at_2_hz_through_mosquitto_lose_nothing(mqtt_broker: services.Mosquitto) -> None:
    mux = NodeMux(Kernel(demo_seed(63, 16), grid=(36, 64)), limiter=RateLimiter(rate_per_s=1e9, burst=1e9))
    stop = threading.Event()

    def engine() -> None:
        while not stop.wait(1 / 60):
            mux.step(1 / 60, (), PARAMS)

    stepping = threading.Thread(target=engine, daemon=True)
    with MqttListener(mux, mqtt_broker.url) as listener:
        wait_for(lambda: listener.connected, 10, "the listener to subscribe")
        stepping.start()
        try:
            sender = subprocess.Popen(
                [sys.executable, str(ROOT / "benchmarks" / "bench_nodes.py"), "send", "mqtt", str(mqtt_broker.port),
                 str(NODES * HZ), str(SECONDS), str(NODES)],
                stdout=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
            time.sleep(SECONDS / 2)
            pid = listener.receiver_pid
            assert pid is not None
            os.kill(pid, signal.SIGSTOP)  # a listener left without a core
            time.sleep(1.5)
            os.kill(pid, signal.SIGCONT)
            out, _ = sender.communicate(timeout=60)
            assert sender.returncode == 0
            sent = json.loads(out)["sent"]
            assert sent == int(NODES * HZ * SECONDS)

            def accepted() -> int:
                return int(mux.counters.snapshot().get("mqtt", {}).get("accepted", 0))  # type: ignore[call-overload]

            wait_for(lambda: accepted() >= sent, 60, f"all {sent} readings")
            time.sleep(0.3)  # nothing more may come than was sent
            counts = mux.counters.snapshot()["mqtt"]
            assert (counts["received"], counts["accepted"], counts["dropped"]) == (sent, sent, {})
            assert listener.connects == 1  # no reconnect (QoS 0 sent meanwhile would be gone)
            wait_for(lambda: mux.joined == NODES, 10, "every node joined")
        finally:
            stop.set()
            stepping.join()
    frame = mux.step(1 / 60, (), PARAMS)
    for k in (0, 1234, 4999):
        assert float(frame.potential_mv[frame.index_of(f"n{k:04d}")]) == pytest.approx((k % 100) / 100, abs=1e-6)
