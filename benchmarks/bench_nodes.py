"""Live-node ingestion: readings per second the OSC and MQTT paths take without loss, and the
latency from a reading's arrival to the WorldFrame that carries it.

Throughput: a sender pushes N readings at a set rate (OSC: UDP datagrams to the listener;
MQTT: QoS 0 publishes through a real mosquitto) while an engine loop steps the mux at 60 Hz;
we count what the mux accepted. The per-source rate limit is lifted here to measure the path
itself (the default limit, 2,000 readings/s per source, is reported beside it). Latency: a
sender sends one reading every 20 ms with a distinct value; the 60 Hz loop notes when the
frame first shows it (sender clock and loop clock are the same process's perf_counter).
"""

from __future__ import annotations

import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pythonosc.osc_message_builder import OscMessageBuilder

from installation.core.events import InputQueue
from installation.inputs.osc import OscListener
from installation.nodes.mux import NodeMux
from installation.nodes.ratelimit import RateLimiter
from installation.sim.defaults import demo_seed
from installation.sim.kernel import Kernel

RATES = (1000, 5000, 20000, 50000)
STEP = 1 / 60


def _mux() -> NodeMux:
    return NodeMux(Kernel(demo_seed(1, 64), grid=(72, 128)), limiter=RateLimiter(rate_per_s=1e9, burst=1e9),
                   capacity=1_000_000)


def _engine(mux: NodeMux, stop: threading.Event, on_frame: Callable[[Any], None] | None = None) -> threading.Thread:
    def loop() -> None:
        start = time.perf_counter()
        steps = 0
        while not stop.is_set():
            frame = mux.step(STEP, (), {"nodes.fade_s": 0.0})
            if on_frame:
                on_frame(frame)
            steps += 1
            time.sleep(max(0.0, start + steps * STEP - time.perf_counter()))

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


def _paced(send: Callable[[int], None], count: int, rate: float) -> float:
    start = time.perf_counter()
    for k in range(count):
        send(k)
        ahead = start + (k + 1) / rate - time.perf_counter()
        if ahead > 0:
            time.sleep(ahead)
    return time.perf_counter() - start


def _osc_datagram(node: str, value: float) -> bytes:
    message = OscMessageBuilder(address=f"/myco/node/{node}")
    message.add_arg(value)
    return message.build().dgram


def osc_throughput(rate: float, seconds: float) -> dict[str, float]:
    mux = _mux()
    listener = OscListener(mux, InputQueue(), port=0)
    listener.start()
    stop = threading.Event()
    engine = _engine(mux, stop)
    datagrams = [_osc_datagram(f"n{k % 64:03d}", (k % 100) / 100) for k in range(1000)]
    count = int(rate * seconds)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        elapsed = _paced(lambda k: sender.sendto(datagrams[k % 1000], ("127.0.0.1", listener.port)), count, rate)
    time.sleep(0.5)
    stop.set()
    engine.join()
    listener.stop()
    accepted = int(mux.counters.snapshot().get("osc", {}).get("accepted", 0))  # type: ignore[call-overload]
    return {"sent": count, "accepted": accepted, "sent_per_s": round(count / elapsed), "lost": count - accepted}


def mqtt_throughput(rate: float, seconds: float, url: str) -> dict[str, float]:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from installation.inputs.mqtt import MqttListener

    mux = _mux()
    listener = MqttListener(mux, url)
    listener.start()
    port = url.rsplit(":", 1)[1]
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-pub")
    publisher.max_queued_messages_set(0)
    publisher.connect("127.0.0.1", int(port))
    publisher.loop_start()
    deadline = time.monotonic() + 10
    while not (listener.connected and publisher.is_connected()) and time.monotonic() < deadline:
        time.sleep(0.02)
    stop = threading.Event()
    engine = _engine(mux, stop)
    payloads = [f'{{"potential_mv": {(k % 100) / 100}}}'.encode() for k in range(100)]
    count = int(rate * seconds)
    elapsed = _paced(lambda k: publisher.publish(f"myco/nodes/n{k % 64:03d}", payloads[k % 100]), count, rate)
    time.sleep(1.0)
    stop.set()
    engine.join()
    publisher.disconnect()
    publisher.loop_stop()
    listener.stop()
    accepted = int(mux.counters.snapshot().get("mqtt", {}).get("accepted", 0))  # type: ignore[call-overload]
    return {"sent": count, "accepted": accepted, "sent_per_s": round(count / elapsed), "lost": count - accepted}


def osc_latency(samples: int) -> dict[str, float]:
    mux = _mux()
    listener = OscListener(mux, InputQueue(), port=0)
    listener.start()
    sent: dict[int, float] = {}
    seen: dict[int, float] = {}

    def on_frame(frame: Any) -> None:
        if "lat" in frame.node_ids:
            k = round(float(frame.potential_mv[frame.index_of("lat")]) * 1000)
            seen.setdefault(k, time.perf_counter())

    stop = threading.Event()
    engine = _engine(mux, stop, on_frame)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for k in range(1, samples + 1):
            sent[k] = time.perf_counter()
            sender.sendto(_osc_datagram("lat", k / 1000), ("127.0.0.1", listener.port))
            time.sleep(0.02)
    time.sleep(0.2)
    stop.set()
    engine.join()
    listener.stop()
    latencies = sorted((seen[k] - sent[k]) * 1000 for k in sent if k in seen)
    return {"latency_ms_p50": round(statistics.median(latencies), 2),
            "latency_ms_p95": round(latencies[int(0.95 * (len(latencies) - 1))], 2),
            "latency_ms_max": round(latencies[-1], 2), "samples": len(latencies),
            "queue_to_frame_ms_p50": round(mux.latency_ms(50) or 0.0, 2)}


def _lossless(results: dict[str, dict[str, float]]) -> int:
    """The highest rate actually sent (not just asked for) at which nothing was lost."""
    clean = [int(figures["sent_per_s"]) for figures in results.values() if figures["lost"] == 0]
    return max(clean) if clean else 0


def run(quick: bool = False) -> dict[str, Any]:
    from tests.services import start_mosquitto, stop

    seconds = 0.5 if quick else 2.0
    osc = {str(rate): osc_throughput(rate, seconds) for rate in RATES}
    with tempfile.TemporaryDirectory() as folder:
        broker = start_mosquitto(Path(folder))
        try:
            mqtt = {str(rate): mqtt_throughput(rate, seconds, f"mqtt://127.0.0.1:{broker.port}") for rate in RATES}
        finally:
            stop(broker.process)
    return {"osc_readings_per_s": osc, "osc_lossless_readings_per_s": _lossless(osc),
            "mqtt_readings_per_s": mqtt, "mqtt_lossless_readings_per_s": _lossless(mqtt),
            "default_rate_limit_per_source_per_s": RateLimiter().rate,
            "osc_arrival_to_frame": osc_latency(50 if quick else 200)}


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick=True), indent=1))
