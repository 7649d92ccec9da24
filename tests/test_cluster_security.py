"""The cluster's broker locked down as docs/cluster.md says: passwords, TLS, one namespace per venue.

A real mosquitto configured by ``tests/cluster_broker.py`` (its own CA and server certificate,
a hashed password file, an ACL per venue). A bare client of venue ``gallery`` subscribed to its
namespace is the witness: what the broker lets through reaches it, what it refuses does not;
the last test runs two headless Myco members of the gallery over TLS and reads their /status.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from tests.cluster_broker import Broker, Venue, secure_broker
from tests.cluster_rig import SHOW_MS, Member, headless_env, in_step, write_venue
from tests.waiting import wait_for

GALLERY = Venue("gallery", {"gallery-a": "moss-1", "gallery-b": "moss-2"})
HARBOUR = Venue("harbour", {"harbour-a": "kelp-1"})


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    running = secure_broker(tmp_path_factory.mktemp("cluster-broker"), (GALLERY, HARBOUR))
    running.start()
    try:
        yield running
    finally:
        running.stop()


class Client:
    """A bare MQTT v5 client that records what it receives and how the broker answered."""

    def __init__(self, broker: Broker, user: str | None, password: str | None, *, cafile: Path | None) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        if user:
            self.client.username_pw_set(user, password)
        if cafile is not None:
            self.client.tls_set(ca_certs=str(cafile), cert_reqs=ssl.CERT_REQUIRED)
        self.connack: ReasonCode | None = None
        self.pubacks: dict[int, ReasonCode] = {}
        self.received: list[tuple[str, bytes]] = []
        self.subscribed = threading.Event()
        self.client.on_connect = self._on_connect
        self.client.on_publish = lambda _c, _u, mid, reason, _p: self.pubacks.__setitem__(mid, reason)
        self.client.on_message = lambda _c, _u, message: self.received.append((message.topic, bytes(message.payload)))
        self.client.on_subscribe = lambda *_args: self.subscribed.set()
        self.broker = broker

    def _on_connect(self, _client: mqtt.Client, _userdata: object, _flags: object, reason: ReasonCode,
                    _properties: object) -> None:
        self.connack = reason

    def __enter__(self) -> Client:
        self.client.connect_async("127.0.0.1", self.broker.port)
        self.client.loop_start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, topic: str, payload: bytes) -> ReasonCode:
        info = self.client.publish(topic, payload, qos=1)
        return wait_for(lambda: self.pubacks.get(info.mid), 10, f"the broker's answer to a publish on {topic}")


def member(broker: Broker, venue: Venue, index: int = 0) -> Client:
    user = list(venue.members)[index]
    return Client(broker, user, venue.members[user], cafile=broker.cafile)


def connected(client: Client) -> Client:
    wait_for(lambda: client.connack is not None, 10, "the broker's CONNACK")
    return client


def witness(broker: Broker) -> Client:
    """The gallery's second member, subscribed to its namespace."""
    client = connected(member(broker, GALLERY, 1).__enter__())
    assert client.connack is not None and not client.connack.is_failure
    client.client.subscribe(f"{GALLERY.namespace}/#", qos=1)
    assert client.subscribed.wait(10)
    return client


def test_a_member_steers_its_own_venue_over_tls(broker: Broker) -> None:
    watcher = witness(broker)
    try:
        with member(broker, GALLERY) as leader:
            assert not connected(leader).connack.is_failure  # type: ignore[union-attr]
            assert not leader.publish(f"{GALLERY.namespace}/act", b"2").is_failure
            wait_for(lambda: watcher.received, 10, "the act change delivered")
        assert watcher.received == [(f"{GALLERY.namespace}/act", b"2")]
    finally:
        watcher.__exit__()


def test_no_credentials_and_wrong_passwords_are_refused_at_connect(broker: Broker) -> None:
    for user, password in ((None, None), ("gallery-a", "guess"), ("nobody", "moss-1")):
        with Client(broker, user, password, cafile=broker.cafile) as stranger:
            reason = connected(stranger).connack
            assert reason is not None and reason.is_failure, (user, reason)
            assert str(reason) in ("Not authorized", "Bad user name or password"), str(reason)


def test_another_venues_member_cannot_publish_or_read_here(broker: Broker) -> None:
    watcher = witness(broker)
    try:
        with member(broker, HARBOUR) as intruder:
            assert not connected(intruder).connack.is_failure  # type: ignore[union-attr]
            # its publish on the gallery's cluster topics is refused by the broker (MQTT 5 PUBACK 135)
            refused = intruder.publish(f"{GALLERY.namespace}/act", b"5")
            assert refused.is_failure and str(refused) == "Not authorized", str(refused)
            # and it reads nothing of the gallery's: its subscription is granted but delivers nothing
            intruder.client.subscribe(f"{GALLERY.namespace}/#", qos=1)
            assert intruder.subscribed.wait(10)
            with member(broker, GALLERY) as leader:
                connected(leader)
                leader.publish(f"{GALLERY.namespace}/act", b"3")
                wait_for(lambda: watcher.received, 10, "the gallery's own act change")
            # its own venue's namespace stays open to it: the refusal above is the ACL, not the link
            assert not intruder.publish(f"{HARBOUR.namespace}/act", b"1").is_failure
            assert intruder.received == []
        assert watcher.received == [(f"{GALLERY.namespace}/act", b"3")]
    finally:
        watcher.__exit__()


def test_a_client_without_the_venues_ca_or_without_tls_gets_nothing(broker: Broker) -> None:
    # plain MQTT on the TLS listener: a CONNECT (3.1.1, client id "x") is answered by a closed (or reset) link
    with socket.create_connection(("127.0.0.1", broker.port), timeout=10) as plain:
        plain.sendall(bytes([0x10, 13, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 60, 0, 1]) + b"x")
        try:
            answer = plain.recv(16)
        except ConnectionResetError:
            answer = b""
        assert answer == b""
    # TLS trusting the system's authorities only: the venue's own CA signed the broker, none of theirs
    with socket.create_connection(("127.0.0.1", broker.port), timeout=10) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            ssl.create_default_context().wrap_socket(raw, server_hostname="localhost")
    # the venue's CA: the same handshake passes (so the refusal above is the certificate's)
    with socket.create_connection(("127.0.0.1", broker.port), timeout=10) as raw:
        with ssl.create_default_context(cafile=str(broker.cafile)).wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.version() is not None


def test_members_run_over_tls_and_another_venue_cannot_steer_them(broker: Broker, tmp_path: Path) -> None:
    """Two members of the gallery log in with their own passwords over TLS; harbour's member
    forges a leader claim and a presence on the gallery's topics: the broker refuses both and the
    members' /status shows the same leader, epoch and dropped-message counts as before."""
    pairs = ((("a", "leader", 10), "gallery-a"), (("b", "follower", 20), "gallery-b"))
    members = [Member(row[0], write_venue(tmp_path / f"venue-{row[0]}.toml",
                                          broker.url(user, GALLERY.members[user]), ca_file=broker.cafile,
                                          namespace=f"myco/{GALLERY.name}", members=tuple(r for r, _ in pairs)),
                      tmp_path) for row, user in pairs]
    env = headless_env()
    try:
        for running in members:
            running.start(env)
        # following a's show is what counts here; how close each keeps is its share of a loaded CPU
        before = wait_for(lambda: in_step(members, "a", SHOW_MS), 120, "both members over TLS, following a",
                          every=0.5)
        with member(broker, HARBOUR) as intruder:
            connected(intruder)
            forged = {f"{GALLERY.namespace}/leader": {"leader": "b", "epoch": before["a"]["epoch"] + 5},
                      f"{GALLERY.namespace}/members/b": {"member": "b", "priority": 0, "online": True,
                                                         "role": "leader", "step": 0, "epoch": 99}}
            for topic, message in forged.items():
                refused = intruder.publish(topic, json.dumps(message).encode())
                assert refused.is_failure and str(refused) == "Not authorized", (topic, str(refused))
        # documents built after the forgeries (every member heard again) still agree on what they had
        def newer() -> dict[str, dict[str, Any]] | None:
            now = in_step(members, "a", SHOW_MS)
            return now if now and all(now[name]["members"] != before[name]["members"] for name in now) else None

        after = wait_for(newer, 20, "newer /status documents", every=0.5)
        for name in ("a", "b"):
            assert (after[name]["leader"], after[name]["epoch"]) == (before[name]["leader"], before[name]["epoch"])
            assert after[name]["rejected"] == before[name]["rejected"], (name, after[name]["rejected"])
            assert after[name]["takeovers"] == before[name]["takeovers"] == 0
    finally:
        for running in members:
            running.stop()
