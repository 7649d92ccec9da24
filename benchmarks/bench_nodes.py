"""Live-node ingestion: readings per second the OSC and MQTT paths take without loss, where the
time goes, 5,000 nodes through the broker, and the latency from a reading's arrival to its frame.

Throughput: a sender in **another process** (as a node is another machine) sends readings at a
set rate in 1 ms ticks (OSC: UDP datagrams; MQTT: QoS 0 PUBLISH packets written raw to one
connection, a topic per node, through a real mosquitto) while an engine thread steps the mux at
60 Hz. A rate is **lossless** when nothing is lost (every reading accepted; OSC also reads the
kernel's drop count of the socket, MQTT mosquitto's ``$SYS`` drop count) *and* the listener kept
up: the last reading arrived within ``KEEP_UP_S`` of the last sent (a broker queues without
limit, so a rate far above the listener's would otherwise pass a short try, only late). The
rate doubles until a try fails, then bisects to within ``PRECISION``; every one of ``REPEATS``
tries at a rate must pass. The figure is the rate the sender really achieved. Each path is
searched beside its **control**, searched the same way in the same run: a bare UDP reader and a
bare paho subscriber, each in its own process and only counting (what the control cannot take
is the machine's, the sender's or the broker's limit, not ours). The per-source rate limit is
lifted here to measure the path itself (the default is reported beside it).

Where the time goes: each stage's cost per reading (one thread, prepared packets), and in the
fleet run the CPU seconds each process spent (sender, broker, the listener's receiver, the app)
and the engine's step in wall clock beside its own thread's CPU time (the difference is waiting
for a core or the GIL).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
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
from installation.core.frames import NodeReading
from installation.inputs.ingest import Batcher
from installation.inputs.osc import OscListener
from installation.nodes.codec import decode_mqtt, decode_osc, parse_osc
from installation.nodes.mux import NodeMux
from installation.nodes.ratelimit import RateLimiter
from installation.sim.defaults import demo_seed
from installation.sim.kernel import Kernel

STEP = 1 / 60
PRECISION = 1.05  # bisect until the lossy rate is within 5 % of the lossless one
REPEATS = 2
KEEP_UP_S = 0.5
FLEET = 5000  # nodes publishing...
FLEET_HZ = 2.0  # ...twice a second each


def _mux(max_joined: int = 64) -> tuple[NodeMux, dict[str, float]]:
    mux = NodeMux(Kernel(demo_seed(1, 64), grid=(72, 128)), limiter=RateLimiter(rate_per_s=1e9, burst=1e9),
                  capacity=1_000_000)
    return mux, {"nodes.fade_s": 0.0, "nodes.max_joined": float(max_joined)}


@contextmanager
def _engine(mux: NodeMux, params: dict[str, float], on_frame: Callable[[Any], None] | None = None,
            step_ms: list[tuple[float, float]] | None = None) -> Iterator[None]:
    """Steps the mux at 60 Hz; ``step_ms`` gets each step's (wall, own thread's CPU) milliseconds."""
    stop = threading.Event()

    def loop() -> None:
        start = time.perf_counter()
        steps = 0
        while not stop.is_set():
            began, cpu = time.perf_counter(), time.thread_time()
            frame = mux.step(STEP, (), params)
            if step_ms is not None:
                step_ms.append(((time.perf_counter() - began) * 1000, (time.thread_time() - cpu) * 1000))
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
    print(json.dumps({"sent": count, "sent_per_s": round(count / elapsed), "ended": time.time()}))


def _sender(kind: str, port: int, rate: float, seconds: float, nodes: int) -> dict[str, Any]:
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, __file__, "send", kind, str(port), str(rate), str(seconds), str(nodes)],
                          capture_output=True, text=True, check=True, timeout=seconds * 4 + 30, cwd=root,
                          env={**os.environ, "PYTHONPATH": str(root)})
    return json.loads(done.stdout)  # type: ignore[no-any-return]


class _Watch:
    """Polls a count every 5 ms from before the sender starts: the time of its last change is when
    the last reading arrived."""

    def __init__(self, count: Callable[[], int]) -> None:
        self._count = count
        self.value, self.changed = count(), time.time()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.wait(0.005):
            now = self._count()
            if now != self.value:
                self.value, self.changed = now, time.time()

    def settle(self, sent: int, most_s: float = 30.0) -> tuple[int, float]:
        """Wait until ``sent`` arrived or nothing came for a second: (received, when the last came)."""
        deadline = time.monotonic() + most_s
        while self.value < sent and time.monotonic() < deadline and time.time() - self.changed < 1.0:
            time.sleep(0.02)
        self._stop.set()
        self._thread.join()
        return self.value, self.changed


def _outcome(sent: dict[str, Any], received: int, last: float, dropped_elsewhere: int = 0) -> dict[str, Any]:
    late = max(0.0, last - sent["ended"])
    lost = sent["sent"] - received
    return {"sent": sent["sent"], "sent_per_s": sent["sent_per_s"], "lost": lost,
            "late_s": round(late, 3), "ok": lost == 0 and dropped_elsewhere == 0 and late <= KEEP_UP_S,
            **({"dropped_before_us": dropped_elsewhere} if dropped_elsewhere else {})}


def _accepted(mux: NodeMux, source: str) -> Callable[[], int]:
    return lambda: int(mux.counters.snapshot().get(source, {}).get("accepted", 0))  # type: ignore[call-overload]


# -- one try at a rate ----------------------------------------------------------------------------
def osc_try(rate: float, seconds: float) -> dict[str, Any]:
    mux, params = _mux()
    with OscListener(mux, InputQueue(), port=0) as listener, _engine(mux, params):
        watch = _Watch(_accepted(mux, "osc"))
        sent = _sender("osc", listener.port, rate, seconds, 64)
        received, last = watch.settle(sent["sent"])
        return _outcome(sent, received, last, listener.socket_dropped() or 0)


def mqtt_try(rate: float, seconds: float, port: int) -> dict[str, Any]:
    from installation.inputs.mqtt import MqttListener

    mux, params = _mux()
    with MqttListener(mux, f"mqtt://127.0.0.1:{port}") as listener, _engine(mux, params):
        _wait(lambda: listener.connected)
        watch = _Watch(_accepted(mux, "mqtt"))
        sent = _sender("mqtt", port, rate, seconds, 64)
        received, last = watch.settle(sent["sent"])
        return _outcome(sent, received, last)


# -- the controls (a child process each: ``python bench_nodes.py count udp|mqtt port``) ----------
def _count(kind: str, port: int) -> None:
    """Count readings until stdin closes and then nothing comes for a second; print the count."""
    received, last = [0], [time.time()]
    done = threading.Event()

    def until_closed() -> None:
        sys.stdin.read()
        done.set()

    threading.Thread(target=until_closed, daemon=True).start()
    if kind == "udp":
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)  # as the listener's
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.1)
        print(json.dumps({"port": sock.getsockname()[1]}), flush=True)
        buffer = bytearray(2048)
        while not (done.is_set() and time.time() - last[0] > 1.0):
            try:
                sock.recv_into(buffer)
            except TimeoutError:
                continue
            received[0] += 1
            last[0] = time.time()
    else:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        def count(*_: object) -> None:
            received[0] += 1
            last[0] = time.time()

        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-control-{time.time_ns()}")
        client.on_connect = lambda c, *_: c.subscribe("myco/nodes/+")
        client.on_subscribe = lambda *_: print(json.dumps({"port": port}), flush=True)
        client.on_message = count
        client.connect("127.0.0.1", port)
        client.loop_start()
        while not (done.is_set() and time.time() - last[0] > 1.0):
            time.sleep(0.05)
        client.disconnect()
        client.loop_stop()
    print(json.dumps({"received": received[0], "last": last[0]}), flush=True)


def control_try(kind: str, rate: float, seconds: float, nodes: int = 64, port: int = 0) -> dict[str, Any]:
    """A bare reader (``udp``) or a bare paho subscriber (``mqtt``) in its own process, only counting."""
    root = Path(__file__).resolve().parent.parent
    counter = subprocess.Popen([sys.executable, __file__, "count", kind, str(port)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True, cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    assert counter.stdin and counter.stdout
    try:
        ready = json.loads(counter.stdout.readline())
        sent = _sender("osc" if kind == "udp" else "mqtt", ready["port"], rate, seconds, nodes)
        counter.stdin.close()
        result = json.loads(counter.stdout.readline())
    finally:
        counter.wait(timeout=60)
    return _outcome(sent, result["received"], result["last"])


def _wait(ready: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError("not ready in time")
        time.sleep(0.02)


def find_limit(attempt: Callable[[float], dict[str, Any]], start: float, ceiling: float) -> dict[str, Any]:
    """Double from ``start`` until a try fails, then bisect to within PRECISION."""
    tries: list[dict[str, Any]] = []

    def clean(rate: float) -> tuple[bool, int]:
        results = [attempt(rate) for _ in range(REPEATS)]
        tries.extend({"asked": round(rate), **r} for r in results)
        return all(r["ok"] for r in results), min(r["sent_per_s"] for r in results)

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

    def validate_batch() -> int:  # the receiver process's part after decoding
        read, write = multiprocessing.Pipe(duplex=False)
        batcher = Batcher(write, "osc")
        got: list[Any] = []
        for at in range(0, len(items), 256):
            batcher.offer(items[at:at + 256])
            batcher.flush()
            got.append(read.recv())
        wires.extend(got)
        read.close()
        write.close()
        return len(items)

    def intake() -> int:  # the app's part: a batch to readings, counted, rate-limited and queued
        mux, _ = _mux()
        for _, wire, rejected in wires[:len(items) // 256]:
            mux.offer_valid("osc", [NodeReading(node, 0.0, mv, toxin, waste, moisture, x, y, "osc")
                                    for node, mv, toxin, waste, moisture, x, y in wire], rejected)
        return len(items) // 256 * 256

    wires: list[Any] = []

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
        "receiver_validate_and_send_batched_256_us": _per_reading_us(validate_batch),
        "app_intake_batched_256_us": _per_reading_us(intake),
        "mqtt_decode_json_us": _per_reading_us(lambda: len([decode_mqtt(t, p) for t, p in payloads])),
        "mqtt_decode_batch_of_200_us": _per_reading_us(lambda: 200 * len([decode_mqtt("myco/nodes/batch", batch)
                                                                          for _ in range(25)])),
    }


# -- 5,000 nodes through the broker ---------------------------------------------------------------
def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fleet(port: int, broker_pid: int, seconds: float) -> dict[str, Any]:
    """FLEET nodes publishing FLEET_HZ times a second each (a topic each) through mosquitto to a
    listener and a mux stepped at 60 Hz with all of them joined; each process's CPU seconds."""
    from installation.inputs.mqtt import MqttListener

    mux, params = _mux(max_joined=FLEET)
    steps: list[tuple[float, float]] = []
    with MqttListener(mux, f"mqtt://127.0.0.1:{port}") as listener, _engine(mux, params, step_ms=steps):
        _wait(lambda: listener.connected)
        receiver = listener.receiver_pid
        assert receiver is not None
        watch = _Watch(_accepted(mux, "mqtt"))
        before = (_cpu_s(broker_pid), _cpu_s(receiver), time.process_time(),
                  resource.getrusage(resource.RUSAGE_CHILDREN))
        began = len(steps)
        sent = _sender("mqtt", port, FLEET * FLEET_HZ, seconds, FLEET)
        received, last = watch.settle(sent["sent"])
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = {"sender": children.ru_utime + children.ru_stime - before[3].ru_utime - before[3].ru_stime,
               "broker": _cpu_s(broker_pid) - before[0], "listener_receiver": _cpu_s(receiver) - before[1],
               "app_all_threads": time.process_time() - before[2],
               "app_engine_step": sum(c for _, c in steps[began:]) / 1000}
        time.sleep(1.5)  # mosquitto publishes its counts every sys_interval (1 s here)
        broker_dropped = listener.broker_dropped
    live = steps[began + len(steps[began:]) // 4:]  # once the nodes have joined
    wall = sorted(w for w, _ in live)
    own = sorted(c for _, c in live)
    readings = max(1, received)
    return {"nodes": FLEET, "hz_each": FLEET_HZ, **_outcome(sent, received, last),
            "broker_dropped": broker_dropped, "joined": mux.joined,
            "step_ms_p50": round(statistics.median(wall), 2),
            "step_ms_p99": round(wall[int(0.99 * (len(wall) - 1))], 2),
            "step_cpu_ms_p50": round(statistics.median(own), 2),
            "step_cpu_ms_p99": round(own[int(0.99 * (len(own) - 1))], 2), "frame_ms": round(STEP * 1000, 2),
            "cpu_s": {name: round(value, 2) for name, value in cpu.items()},
            "cpu_us_per_reading": {name: round(value / readings * 1e6, 1) for name, value in cpu.items()}}


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


@contextmanager
def _broker(folder: Path) -> Iterator[tuple[int, int]]:
    """mosquitto as the tests start it, but publishing its counts ($SYS) every second: (port, pid)."""
    from tests.services import accepting, free_port, stop
    from tests.waiting import wait_for

    port = free_port()
    config = folder / "mosquitto.conf"
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nsys_interval 1\n")
    process = subprocess.Popen(["mosquitto", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: accepting(port), 10, "mosquitto", process=process)
        yield port, process.pid
    finally:
        stop(process)


def run(quick: bool = False) -> dict[str, Any]:
    seconds = 1.0 if quick else 3.0
    osc = find_limit(lambda r: osc_try(r, seconds), 5000, 320_000)
    osc_control = find_limit(lambda r: control_try("udp", r, seconds), 5000, 320_000)
    with tempfile.TemporaryDirectory() as folder, _broker(Path(folder)) as (port, pid):
        mqtt = find_limit(lambda r: mqtt_try(r, seconds, port), 2500, 320_000)
        mqtt_control = find_limit(lambda r: control_try("mqtt", r, seconds, port=port), 2500, 320_000)
        many = fleet(port, pid, 5.0 if quick else 20.0)
        many_control = control_try("mqtt", FLEET * FLEET_HZ, 5.0 if quick else 20.0, FLEET, port)
    return {"headline": {"osc_lossless_readings_per_s": osc["lossless_readings_per_s"],
                         "osc_control_bare_udp_reader_per_s": osc_control["lossless_readings_per_s"],
                         "mqtt_lossless_readings_per_s": mqtt["lossless_readings_per_s"],
                         "mqtt_control_bare_paho_per_s": mqtt_control["lossless_readings_per_s"],
                         "fleet_5000_nodes_2hz_lost": many["lost"],
                         "fleet_5000_nodes_2hz_late_s": many["late_s"],
                         "fleet_control_bare_paho_lost": many_control["lost"],
                         "fleet_5000_nodes_step_ms_p50": many["step_ms_p50"],
                         "fleet_5000_nodes_step_cpu_ms_p50": many["step_cpu_ms_p50"],
                         "fleet_5000_nodes_step_ms_p99": many["step_ms_p99"]},
            "osc": osc, "osc_control": osc_control, "mqtt": mqtt, "mqtt_control": mqtt_control,
            "fleet": many, "fleet_control_bare_paho": many_control, "stage_costs_us": stage_costs(),
            "default_rate_limit_per_source_per_s": RateLimiter().rate,
            "osc_arrival_to_frame": osc_latency(50 if quick else 200)}


if __name__ == "__main__":
    if sys.argv[1:2] == ["send"]:
        kind, port, rate, seconds, nodes = sys.argv[2:7]
        _send(kind, int(port), float(rate), float(seconds), int(nodes))
    elif sys.argv[1:2] == ["count"]:
        _count(sys.argv[2], int(sys.argv[3]))
    else:
        print(json.dumps(run(quick=True), indent=1))
