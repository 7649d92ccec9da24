"""Live-node ingestion: readings per second the OSC and MQTT paths take without loss, where the
time goes, 5,000 nodes through the broker, and the latency from a reading's arrival to its frame.

Throughput: a sender in **another process** (as a node is another machine; a sender in this
process would share our GIL and cap the figure at its own speed) sends readings at a set rate in
1 ms ticks (OSC: UDP datagrams; MQTT: QoS 0 PUBLISH packets, written raw to one connection, through
a real mosquitto) while an engine loop steps the mux at 60 Hz. The rate doubles until something is
lost, then bisects between the last lossless and the first lossy rate to within ``PRECISION``;
a rate is lossless only when every one of ``REPEATS`` tries at it loses nothing. The figure is the
rate the sender really achieved. Each path is searched beside its control, searched the same way
in the same run: a bare python-osc server, a bare paho subscriber, each only counting (a limit the
control shares is the machine's, or the broker's). The per-source rate limit is lifted here to
measure the path itself (the default, 2,000 readings/s per source, is reported beside it).

Where the time goes: each stage's cost per reading, timed in one thread over prepared packets.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from installation.core.events import InputQueue
from installation.inputs.osc import OscListener
from installation.nodes.codec import decode_mqtt, decode_osc, parse_osc
from installation.nodes.mux import NodeMux
from installation.nodes.ratelimit import RateLimiter
from installation.sim.defaults import demo_seed
from installation.sim.kernel import Kernel

STEP = 1 / 60
PRECISION = 1.05  # bisect until the lossy rate is within 5 % of the lossless one
REPEATS = 2
FLEET = 5000  # nodes publishing...
FLEET_HZ = 2.0  # ...twice a second each


def _mux(max_joined: int = 64) -> tuple[NodeMux, dict[str, float]]:
    mux = NodeMux(Kernel(demo_seed(1, 64), grid=(72, 128)), limiter=RateLimiter(rate_per_s=1e9, burst=1e9),
                  capacity=1_000_000)
    return mux, {"nodes.fade_s": 0.0, "nodes.max_joined": float(max_joined)}


@contextmanager
def _engine(mux: NodeMux, params: dict[str, float], on_frame: Callable[[Any], None] | None = None,
            step_ms: list[float] | None = None) -> Iterator[None]:
    stop = threading.Event()

    def loop() -> None:
        start = time.perf_counter()
        steps = 0
        while not stop.is_set():
            began = time.perf_counter()
            frame = mux.step(STEP, (), params)
            if step_ms is not None:
                step_ms.append((time.perf_counter() - began) * 1000)
            if on_frame:
                on_frame(frame)
            steps += 1
            time.sleep(max(0.0, start + steps * STEP - time.perf_counter()))

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


# -- the senders (run in a child process: ``python bench_nodes.py send osc|mqtt port rate seconds nodes``) --
def _osc_message(node: str, value: float) -> bytes:
    address = f"/myco/node/{node}".encode()
    return address + b"\0" * (4 - len(address) % 4) + b",f\0\0" + struct.pack(">f", value)


def _mqtt_packet(kind: int, body: bytes) -> bytes:
    length, size = b"", len(body)
    while True:  # the remaining length, 7 bits a byte
        size, low = divmod(size, 128)
        length += bytes([low | (128 if size else 0)])
        if not size:
            return bytes([kind]) + length + body


def _mqtt_string(text: str) -> bytes:
    return struct.pack(">H", len(text)) + text.encode()


def _mqtt_publish(topic: str, payload: bytes) -> bytes:
    return _mqtt_packet(0x30, _mqtt_string(topic) + payload)  # QoS 0: no packet id


def _send(kind: str, port: int, rate: float, seconds: float, nodes: int) -> None:
    """Send ``rate`` readings/s for ``seconds``, cycling through ``nodes`` ids; print what was sent."""
    if kind == "osc":
        packets = [_osc_message(f"n{k:04d}", (k % 100) / 100) for k in range(nodes)]
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.connect(("127.0.0.1", port))
        def send(k: int) -> None:
            sock.send(packets[k % nodes])
    else:
        packets = [_mqtt_publish(f"myco/nodes/n{k:04d}", f'{{"potential_mv": {(k % 100) / 100}}}'.encode())
                   for k in range(nodes)]
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(_mqtt_packet(0x10, _mqtt_string("MQTT") + bytes([4, 2]) + struct.pack(">H", 60)
                                  + _mqtt_string(f"bench-send-{port}-{time.time_ns()}")))
        if sock.recv(4)[:1] != b"\x20":
            raise SystemExit("the broker refused the sender")
        pending: list[bytes] = []
        def send(k: int) -> None:
            pending.append(packets[k % nodes])
    count = int(rate * seconds)
    start = time.perf_counter()
    sent = 0
    while sent < count:
        due = min(count, int((time.perf_counter() - start) * rate) + 1)
        for k in range(sent, due):
            send(k)
        sent = due
        if kind == "mqtt":
            sock.sendall(b"".join(pending))
            pending.clear()
        time.sleep(0.001)
    elapsed = time.perf_counter() - start
    if kind == "mqtt":
        sock.sendall(b"\xe0\x00")  # DISCONNECT
    sock.close()
    print(json.dumps({"sent": count, "sent_per_s": round(count / elapsed)}))


def _sender(kind: str, port: int, rate: float, seconds: float, nodes: int) -> dict[str, int]:
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, __file__, "send", kind, str(port), str(rate), str(seconds), str(nodes)],
                          capture_output=True, text=True, check=True, timeout=seconds * 4 + 30, cwd=root,
                          env={**os.environ, "PYTHONPATH": str(root)})
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _settle(count: Callable[[], int], sent: int, most_s: float = 10.0) -> int:
    """Wait until ``count`` reaches ``sent`` or stops moving for a second: what is late (a busy
    machine) is not lost, what never comes is."""
    deadline, last, moved = time.monotonic() + most_s, -1, time.monotonic()
    while time.monotonic() < deadline and count() < sent:
        now = count()
        if now != last:
            last, moved = now, time.monotonic()
        elif time.monotonic() - moved > 1.0:
            break
        time.sleep(0.05)
    return count()


# -- one try at a rate ----------------------------------------------------------------------------
def osc_try(rate: float, seconds: float) -> dict[str, int]:
    mux, params = _mux()
    with OscListener(mux, InputQueue(), port=0) as listener, _engine(mux, params):
        sent = _sender("osc", listener.port, rate, seconds, 64)
        received = _settle(lambda: int(mux.counters.snapshot().get("osc", {}).get("accepted", 0)),  # type: ignore[call-overload]
                           sent["sent"])
    return {**sent, "lost": sent["sent"] - received}


def osc_control_try(rate: float, seconds: float) -> dict[str, int]:
    """A bare python-osc server that only counts the readings (no validation, no mux)."""
    from pythonosc.dispatcher import Dispatcher
    from pythonosc.osc_server import BlockingOSCUDPServer

    received = [0]

    def count(address: str, *args: object) -> None:
        received[0] += 1

    dispatcher = Dispatcher()
    dispatcher.map("/myco/node/*", count)
    server = BlockingOSCUDPServer(("127.0.0.1", 0), dispatcher)
    server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)  # as the listener's
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        sent = _sender("osc", server.server_address[1], rate, seconds, 64)
        got = _settle(lambda: received[0], sent["sent"])
    finally:
        server.shutdown()
        server.server_close()
    return {**sent, "lost": sent["sent"] - got}


def mqtt_try(rate: float, seconds: float, port: int) -> dict[str, int]:
    from installation.inputs.mqtt import MqttListener

    mux, params = _mux()
    with MqttListener(mux, f"mqtt://127.0.0.1:{port}") as listener, _engine(mux, params):
        _wait(lambda: listener.connected)
        sent = _sender("mqtt", port, rate, seconds, 64)
        received = _settle(lambda: int(mux.counters.snapshot().get("mqtt", {}).get("accepted", 0)),  # type: ignore[call-overload]
                           sent["sent"])
    return {**sent, "lost": sent["sent"] - received}


def mqtt_control_try(rate: float, seconds: float, port: int) -> dict[str, int]:
    """A bare paho subscriber that only counts the messages."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    received = [0]
    subscribed = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-control-{time.time_ns()}")
    client.on_connect = lambda c, *_: c.subscribe("myco/nodes/+")
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = lambda *_: received.__setitem__(0, received[0] + 1)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        _wait(subscribed.is_set)
        sent = _sender("mqtt", port, rate, seconds, 64)
        got = _settle(lambda: received[0], sent["sent"])
    finally:
        client.disconnect()
        client.loop_stop()
    return {**sent, "lost": sent["sent"] - got}


def _wait(ready: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError("not ready in time")
        time.sleep(0.02)


def find_limit(attempt: Callable[[float], dict[str, int]], start: float, ceiling: float) -> dict[str, Any]:
    """Double from ``start`` until a try loses something, then bisect to within PRECISION."""
    tries: list[dict[str, Any]] = []

    def clean(rate: float) -> tuple[bool, int]:
        results = [attempt(rate) for _ in range(REPEATS)]
        tries.extend({"asked": round(rate), **r} for r in results)
        return all(r["lost"] == 0 for r in results), min(r["sent_per_s"] for r in results)

    low, high, achieved = 0.0, 0.0, 0
    rate = start
    while rate <= ceiling:
        ok, sent_per_s = clean(rate)
        if not ok:
            high = rate
            break
        low, achieved = rate, sent_per_s
        rate *= 2
    while high and high / max(low, 1.0) > PRECISION:
        middle = (low + high) / 2 if low else high / 2
        ok, sent_per_s = clean(middle)
        if ok:
            low, achieved = middle, sent_per_s
        else:
            high = middle
    return {"lossless_readings_per_s": achieved, "first_lossy_asked": round(high) if high else None,
            "reached_ceiling": not high, "tries": tries}


# -- where the time goes --------------------------------------------------------------------------
def _per_reading_us(work: Callable[[], int]) -> float:
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        readings = work()
        best = min(best, (time.perf_counter() - began) / readings * 1e6)
    return round(best, 2)


def stage_costs() -> dict[str, float]:
    """Per-reading cost (µs, best of 3, one thread) of each stage a reading passes."""
    from pythonosc import osc_packet

    datagrams = [_osc_message(f"n{k % 64:04d}", (k % 100) / 100) for k in range(5000)]
    payloads = [(f"myco/nodes/n{k % 64:04d}", f'{{"potential_mv": {(k % 100) / 100}}}'.encode()) for k in range(5000)]
    batch = json.dumps({f"n{k:04d}": {"potential_mv": (k % 100) / 100} for k in range(200)}).encode()
    messages = [parse_osc(d)[0] for d in datagrams]  # type: ignore[index]
    values = [decode_osc(a, v) for a, v in messages]
    items = [(v.node, v.values) for v in values]  # type: ignore[union-attr]

    def offer(batch_size: int) -> int:
        mux, _ = _mux()
        for at in range(0, len(items), batch_size):
            mux.offer_many("osc", items[at:at + batch_size])
        return len(items)

    def receive() -> int:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx, \
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            rx.bind(("127.0.0.1", 0))
            for d in datagrams[:2000]:
                tx.sendto(d, rx.getsockname())
            for _ in range(2000):
                rx.recvfrom(65536)
        return 4000  # a send and a receive each: both timed, halved

    return {
        "osc_recvfrom_us": _per_reading_us(receive),
        "osc_parse_python_osc_us": _per_reading_us(lambda: len([osc_packet.OscPacket(d).messages for d in datagrams])),
        "osc_parse_fast_us": _per_reading_us(lambda: len([parse_osc(d) for d in datagrams])),
        "osc_decode_us": _per_reading_us(lambda: len([decode_osc(a, v) for a, v in messages])),
        "validate_enqueue_one_at_a_time_us": _per_reading_us(lambda: offer(1)),
        "validate_enqueue_batched_64_us": _per_reading_us(lambda: offer(64)),
        "mqtt_decode_json_us": _per_reading_us(lambda: len([decode_mqtt(t, p) for t, p in payloads])),
        "mqtt_decode_batch_of_200_us": _per_reading_us(lambda: 200 * len([decode_mqtt("myco/nodes/batch", batch)
                                                                          for _ in range(25)])),
    }


# -- 5,000 nodes through the broker ---------------------------------------------------------------
def fleet(port: int, seconds: float) -> dict[str, Any]:
    """FLEET nodes publishing FLEET_HZ times a second each (per-node topics) through mosquitto to a
    listener and a mux stepped at 60 Hz with all of them joined."""
    from installation.inputs.mqtt import MqttListener

    mux, params = _mux(max_joined=FLEET)
    step_ms: list[float] = []
    with MqttListener(mux, f"mqtt://127.0.0.1:{port}") as listener, _engine(mux, params, step_ms=step_ms):
        _wait(lambda: listener.connected)
        sent = _sender("mqtt", port, FLEET * FLEET_HZ, seconds, FLEET)
        received = _settle(lambda: int(mux.counters.snapshot().get("mqtt", {}).get("accepted", 0)),  # type: ignore[call-overload]
                           sent["sent"])
        time.sleep(0.5)
    live = step_ms[len(step_ms) // 2:]  # once every node has joined
    live.sort()
    return {"nodes": FLEET, "hz_each": FLEET_HZ, "sent": sent["sent"], "sent_per_s": sent["sent_per_s"],
            "lost": sent["sent"] - received, "joined": mux.joined,
            "step_ms_p50": round(statistics.median(live), 2),
            "step_ms_p99": round(live[int(0.99 * (len(live) - 1))], 2),
            "frame_ms": round(STEP * 1000, 2)}


def osc_latency(samples: int) -> dict[str, float]:
    mux, params = _mux()
    sent: dict[int, float] = {}
    seen: dict[int, float] = {}

    def on_frame(frame: Any) -> None:
        if "lat" in frame.node_ids:
            k = round(float(frame.potential_mv[frame.index_of("lat")]) * 1000)
            seen.setdefault(k, time.perf_counter())

    with OscListener(mux, InputQueue(), port=0) as listener, _engine(mux, params, on_frame), \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for k in range(1, samples + 1):
            sent[k] = time.perf_counter()
            sender.sendto(_osc_message("lat", k / 1000), ("127.0.0.1", listener.port))
            time.sleep(0.02)
        time.sleep(0.2)
    latencies = sorted((seen[k] - sent[k]) * 1000 for k in sent if k in seen)
    return {"latency_ms_p50": round(statistics.median(latencies), 2),
            "latency_ms_p95": round(latencies[int(0.95 * (len(latencies) - 1))], 2),
            "latency_ms_max": round(latencies[-1], 2), "samples": len(latencies),
            "queue_to_frame_ms_p50": round(mux.latency_ms(50) or 0.0, 2)}


def run(quick: bool = False) -> dict[str, Any]:
    from tests.services import start_mosquitto, stop

    seconds = 1.0 if quick else 3.0
    osc = find_limit(lambda r: osc_try(r, seconds), 5000, 320_000)
    osc_control = find_limit(lambda r: osc_control_try(r, seconds), 5000, 320_000)
    with tempfile.TemporaryDirectory() as folder:
        broker = start_mosquitto(Path(folder))
        try:
            mqtt = find_limit(lambda r: mqtt_try(r, seconds, broker.port), 2500, 320_000)
            mqtt_control = find_limit(lambda r: mqtt_control_try(r, seconds, broker.port), 2500, 320_000)
            many = fleet(broker.port, 5.0 if quick else 20.0)
        finally:
            stop(broker.process)
    return {"headline": {"osc_lossless_readings_per_s": osc["lossless_readings_per_s"],
                         "osc_control_bare_python_osc_per_s": osc_control["lossless_readings_per_s"],
                         "mqtt_lossless_readings_per_s": mqtt["lossless_readings_per_s"],
                         "mqtt_control_bare_paho_per_s": mqtt_control["lossless_readings_per_s"],
                         "fleet_5000_nodes_2hz_lost": many["lost"],
                         "fleet_5000_nodes_step_ms_p50": many["step_ms_p50"],
                         "fleet_5000_nodes_step_ms_p99": many["step_ms_p99"]},
            "osc": osc, "osc_control": osc_control, "mqtt": mqtt, "mqtt_control": mqtt_control,
            "fleet": many, "stage_costs_us": stage_costs(),
            "default_rate_limit_per_source_per_s": RateLimiter().rate,
            "osc_arrival_to_frame": osc_latency(50 if quick else 200)}


if __name__ == "__main__":
    if sys.argv[1:2] == ["send"]:
        kind, port, rate, seconds, nodes = sys.argv[2:7]
        _send(kind, int(port), float(rate), float(seconds), int(nodes))
    else:
        print(json.dumps(run(quick=True), indent=1))
