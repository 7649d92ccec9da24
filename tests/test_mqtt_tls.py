"""MQTT with a password and TLS (mqtts://) against a real mosquitto configured for both.

The session broker is plain and anonymous, so this module starts one broker of its own with
a throw-away certificate (openssl) and password file (mosquitto_passwd), and stops it after.
"""

from __future__ import annotations

import getpass
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from installation.inputs.mqtt import MqttListener
from installation.nodes.mux import NodeMux
from installation.sim.defaults import demo_seed
from installation.sim.kernel import Kernel
from tests import services
from tests.waiting import wait_for


@dataclass
class SecureBroker:
    port: int
    cafile: Path


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    folder = tmp_path_factory.mktemp("mqtts")
    openssl = services.require("openssl")
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
                   check=True, capture_output=True, timeout=60)
    subprocess.run([services.require("mosquitto_passwd"), "-b", "-c", str(folder / "passwd"), "myco", "s3cret"],
                   check=True, capture_output=True, timeout=30)
    port = services.free_port()
    config = folder / "mosquitto.conf"
    # `user`: run as whoever runs the tests, so the broker can read the private test folder.
    config.write_text(f"user {getpass.getuser()}\n"
                      f"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {folder / 'passwd'}\n"
                      f"certfile {folder / 'cert.pem'}\nkeyfile {folder / 'key.pem'}\npersistence false\n")
    process = subprocess.Popen([services.require("mosquitto"), "-c", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: services.accepting(port), 10, "mosquitto with TLS to listen", process=process)
        yield SecureBroker(port, folder / "cert.pem")
    finally:
        services.stop(process)


def publish(broker: SecureBroker, node: str, payload: str) -> None:
    subprocess.run([services.require("mosquitto_pub"), "-h", "127.0.0.1", "-p", str(broker.port),
                    "--cafile", str(broker.cafile), "-u", "myco", "-P", "s3cret", "-t", f"myco/nodes/{node}",
                    "-m", payload], check=True, timeout=10)


def test_mqtts_with_password_delivers_readings(secure_broker: SecureBroker) -> None:
    mux = NodeMux(Kernel(demo_seed(71, 6), grid=(18, 32)))
    listener = MqttListener(mux, f"mqtts://myco:s3cret@127.0.0.1:{secure_broker.port}",
                            ca_certs=str(secure_broker.cafile))
    with listener:
        wait_for(lambda: listener.connected, 10, "the listener to subscribe over TLS")
        publish(secure_broker, "n001", '{"potential_mv": 0.25}')
        wait_for(lambda: mux.counters.snapshot().get("mqtt", {}).get("accepted") == 1, 10, "the reading accepted")
    frame = mux.step(1 / 60, (), {"nodes.fade_s": 0.0})
    assert frame.live[frame.index_of("n001")] and frame.potential_mv[frame.index_of("n001")] == pytest.approx(0.25)


def test_wrong_password_is_refused_without_harm(secure_broker: SecureBroker, caplog: pytest.LogCaptureFixture) -> None:
    mux = NodeMux(Kernel(demo_seed(72, 6), grid=(18, 32)))
    listener = MqttListener(mux, f"mqtts://myco:wrong@127.0.0.1:{secure_broker.port}",
                            ca_certs=str(secure_broker.cafile))
    with listener:
        wait_for(lambda: "refused the connection" in caplog.text, 10, "the broker's refusal")
        assert not listener.connected and listener.connects == 0
    assert mux.step(1 / 60, (), {}).node_count == 6  # the world runs on regardless
