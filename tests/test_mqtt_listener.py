"""The MQTT listener against a real mosquitto: mosquitto_pub readings, bad payloads, a broker restart."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion

from installation.inputs.mqtt import BrokerUrl, MqttListener
from installation.nodes.mux import NodeMux
from installation.nodes.ratelimit import RateLimiter
from installation.sim.defaults import demo_seed
from installation.sim.kernel import Kernel
from tests import services
from tests.fuzzing import fuzz
from tests.waiting import wait_for

PARAMS = {"nodes.fade_s": 0.0}


def counts(listener: MqttListener) -> dict[str, object]:
    return listener.mux.counters.snapshot().get("mqtt", {"received": 0, "accepted": 0, "dropped": {}})


def pub(port: int, node: str, payload: str) -> None:
    binary = shutil.which("mosquitto_pub")
    assert binary, "mosquitto_pub (mosquitto-clients) is required"
    subprocess.run([binary, "-h", "127.0.0.1", "-p", str(port), "-t", f"myco/nodes/{node}", "-m", payload],
                   check=True, timeout=10)


@contextlib.contextmanager
def listening(port: int) -> Iterator[MqttListener]:
    mux = NodeMux(Kernel(demo_seed(61, 8), grid=(18, 32)))
    client = MqttListener(mux, f"mqtt://myco:secret@127.0.0.1:{port}")
    client.start()
    try:
        wait_for(lambda: client.connected, 10, "the listener to subscribe")
        yield client
    finally:
        client.stop()


@pytest.fixture
def listener(mqtt_broker: services.Mosquitto) -> Iterator[MqttListener]:
    with listening(mqtt_broker.port) as client:
        yield client


def test_broker_urls() -> None:
    url = BrokerUrl.parse("mqtts://maker:p%40ss@broker.local")
    assert (url.host, url.port, url.tls, url.username, url.password) == ("broker.local", 8883, True, "maker", "p@ss")
    assert "p@ss" not in str(url)
    assert BrokerUrl.parse("mqtt://10.0.0.2:1884").port == 1884
    for bad in ("http://x", "mqtt://", "mqtt://host:99999"):
        with pytest.raises(ValueError):
            BrokerUrl.parse(bad)


def test_mosquitto_pub_readings_reach_the_frame(listener: MqttListener, mqtt_broker: services.Mosquitto) -> None:
    pub(mqtt_broker.port, "n001", '{"potential_mv": 0.42, "moisture": 0.8}')
    pub(mqtt_broker.port, "cellar", '{"potential_mv": 0.1, "x": 0.9, "y": 0.1}')
    wait_for(lambda: counts(listener)["accepted"] == 2, 10, "two readings accepted")
    frame = listener.mux.step(1 / 60, (), PARAMS)
    i = frame.index_of("n001")
    assert frame.live[i] and frame.potential_mv[i] == pytest.approx(0.42) and frame.moisture[i] == pytest.approx(0.8)
    assert frame.live[frame.index_of("cellar")]


def test_bad_payloads_are_counted_by_reason(listener: MqttListener, mqtt_broker: services.Mosquitto) -> None:
    for node, payload in (("n1", "not json"), ("n1", '{"potential_mv": NaN}'), ("n1", "[1]"),
                          ("n1", '{"volts": 1}'), ("n1", '{"toxin": 7}'), ("BAD", "{}"),
                          ("n1", '{"potential_mv": "' + "x" * 1100 + '"}')):
        pub(mqtt_broker.port, node, payload)
    wait_for(lambda: counts(listener)["received"] == 7, 10, "seven payloads received")
    assert counts(listener)["dropped"] == {"malformed": 1, "not_finite": 1, "wrong_type": 1, "unknown_field": 1,
                                           "out_of_range": 1, "bad_id": 1, "oversize": 1}
    assert counts(listener)["accepted"] == 0


def test_readings_resume_after_the_broker_restarts(tmp_path: Path) -> None:
    # a broker of the test's own: restarting the session's would cut off the clients other tests keep
    broker = services.start_mosquitto(tmp_path)
    try:
        with listening(broker.port) as listener:
            pub(broker.port, "n002", '{"potential_mv": 0.1}')
            wait_for(lambda: counts(listener)["accepted"] == 1, 10, "the reading before the restart")
            services.stop(broker.process)
            wait_for(lambda: not listener.connected, 10, "the listener to notice the broker gone")
            broker = services.start_mosquitto(tmp_path, broker.port)
            wait_for(lambda: listener.connected and listener.connects >= 2, 20, "the listener to reconnect")
            pub(broker.port, "n002", '{"potential_mv": 0.3}')
            wait_for(lambda: counts(listener)["accepted"] == 2, 10, "the reading after the restart")
            frame = listener.mux.step(1 / 60, (), PARAMS)
            assert frame.potential_mv[frame.index_of("n002")] == pytest.approx(0.3)
    finally:
        services.stop(broker.process)


@pytest.fixture(scope="module")
def publisher(mqtt_broker: services.Mosquitto) -> Iterator[mqtt.Client]:
    """One publishing client for the whole fuzz run (connecting per example would be slow)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="myco-fuzz")
    client.connect("127.0.0.1", mqtt_broker.port)
    client.loop_start()
    wait_for(client.is_connected, 10, "the fuzz publisher to connect")
    yield client
    client.disconnect()
    client.loop_stop()


@fuzz(200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=1200))
def test_fuzz_payloads_through_the_broker(listener: MqttListener, publisher: mqtt.Client, payload: bytes) -> None:
    before = counts(listener)["received"]
    publisher.publish("myco/nodes/fuzz", payload, qos=1).wait_for_publish(5)
    wait_for(lambda: counts(listener)["received"] == before + 1, 10, "the fuzzed payload")  # type: ignore[operator]
    now = counts(listener)
    assert now["accepted"] + sum(now["dropped"].values()) == now["received"]  # type: ignore[attr-defined,operator]


def open_sockets(pid: int | str = "self") -> int:
    folder = Path(f"/proc/{pid}/fd")
    count = 0
    for fd in folder.iterdir():
        try:
            count += os.readlink(fd).startswith("socket:")
        except OSError:  # closed while we looked
            pass
    return count


def test_stop_ends_the_client_process_and_a_restart_connects_again(mqtt_broker: services.Mosquitto) -> None:
    # the client lives in a process of its own: stop ends it (paho's sockets with it), and
    # leaves no socket here (the leak check sees any other descriptor or process left behind)
    before = open_sockets()
    listener = MqttListener(NodeMux(Kernel(demo_seed(62, 4), grid=(18, 32))), mqtt_broker.url)
    pids = []
    for _ in range(2):
        listener.start()
        wait_for(lambda: listener.connected, 10, "the listener to subscribe")
        pid = listener.receiver_pid
        assert pid is not None and open_sockets(pid) >= 3  # the broker connection and paho's socket pair
        pids.append(pid)
        pub(mqtt_broker.port, "n003", '{"potential_mv": 0.2}')
        wait_for(lambda: counts(listener)["accepted"] == len(pids), 10, "a reading through this client")
        listener.stop()
        assert not listener.connected and listener.receiver_pid is None
        assert not Path(f"/proc/{pid}").exists()
        assert open_sockets() == before
    assert pids[0] != pids[1] and listener.connects == 2


def test_a_batch_message_carries_many_nodes(listener: MqttListener, mqtt_broker: services.Mosquitto) -> None:
    """``myco/nodes/batch``: 200 readings in one message, one of them with a bad id (counted, the rest taken)."""
    batch = {f"b{k:03d}": {"potential_mv": k / 100} for k in range(199)} | {"Bad id": {"toxin": 0.5}}
    listener.mux.limiter = RateLimiter(rate_per_s=1e9, burst=1e9)
    pub(mqtt_broker.port, "batch", json.dumps(batch))
    wait_for(lambda: counts(listener)["received"] == 200, 10, "the batch's readings")
    assert (counts(listener)["accepted"], counts(listener)["dropped"]) == (199, {"bad_id": 1})
    frame = listener.mux.step(1 / 60, (), {**PARAMS, "nodes.max_joined": 512})
    assert [float(frame.potential_mv[frame.index_of(f"b{k:03d}")]) for k in range(199)] == pytest.approx(
        [k / 100 for k in range(199)])


def test_many_readings_through_the_broker_lose_nothing(listener: MqttListener, publisher: mqtt.Client) -> None:
    """3,000 per-node readings in bursts, through the real broker: every one accepted."""
    listener.mux.limiter = RateLimiter(rate_per_s=1e9, burst=1e9)
    before = counts(listener)["accepted"]
    for k in range(3000):
        publisher.publish(f"myco/nodes/r{k % 40:02d}", json.dumps({"potential_mv": k / 3000}))
        if k % 100 == 99:
            time.sleep(0.01)
    wait_for(lambda: counts(listener)["accepted"] == before + 3000, 30, "every reading")  # type: ignore[operator]
    assert counts(listener)["dropped"] == {}
    frame = listener.mux.step(1 / 60, (), PARAMS)
    assert float(frame.potential_mv[frame.index_of("r39")]) == pytest.approx(2999 / 3000)


def test_a_killed_reader_process_is_counted_and_started_again(listener: MqttListener,
                                                              mqtt_broker: services.Mosquitto) -> None:
    first = listener.receiver_pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: listener.status()["receiver_restarts"] == 1, 10, "the restart to be counted")
    wait_for(lambda: listener.connected and listener.receiver_pid not in (None, first), 20, "a new reader")
    pub(mqtt_broker.port, "n004", '{"potential_mv": 0.3}')
    wait_for(lambda: counts(listener)["accepted"] == 1, 10, "a reading through the new reader")
    assert listener.connects == 2
