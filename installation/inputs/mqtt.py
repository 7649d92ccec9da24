"""The MQTT listener: a paho-mqtt 2.x client that feeds ``myco/nodes/<id>`` readings to the mux.

``connect_async`` + ``loop_start`` so a broker that is down at start-up is not fatal, and the
client reconnects by itself when the broker comes back; it subscribes in ``on_connect`` so
the subscription returns after every reconnect. Every callback is wrapped: an exception in
a paho callback would kill its network thread.
"""

from __future__ import annotations

import functools
import logging
import os
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from installation.nodes.codec import MAX_BATCH_BYTES, decode_mqtt
from installation.nodes.mux import NodeMux
from installation.nodes.validate import Rejection

log = logging.getLogger(__name__)
SOURCE = "mqtt"
TOPIC = "myco/nodes/+"
F = TypeVar("F", bound=Callable[..., None])


@dataclass(frozen=True)
class BrokerUrl:
    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> BrokerUrl:
        """``mqtt://[user[:password]@]host[:port]`` or ``mqtts://`` for TLS (port 1883 / 8883)."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts"):
            raise ValueError(f"broker URL must start with mqtt:// or mqtts://, got {parts.scheme or 'nothing'}")
        if not parts.hostname:
            raise ValueError("broker URL has no host")
        try:
            port = parts.port
        except ValueError as error:
            raise ValueError(f"broker URL port: {error}") from None
        tls = parts.scheme == "mqtts"
        return cls(parts.hostname, port or (8883 if tls else 1883), tls,
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None)

    def __str__(self) -> str:  # never shows the password
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"


def new_client(broker: BrokerUrl, client_id: str, ca_certs: str | None = None,
               protocol: mqtt.MQTTProtocolVersion = mqtt.MQTTProtocolVersion.MQTTv311) -> mqtt.Client:
    """A paho client for ``broker``: its credentials, TLS checked against ``ca_certs`` (the
    system's CAs when None), reconnecting by itself. The node listener and the cluster share it."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol)
    client.reconnect_delay_set(min_delay=1, max_delay=10)
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    if broker.tls:
        client.tls_set(ca_certs=ca_certs, cert_reqs=ssl.CERT_REQUIRED)
    return client


def _guarded(method: F) -> F:
    @functools.wraps(method)
    def wrapper(self: MqttListener, *args: Any) -> None:
        try:
            method(self, *args)
        except Exception:
            log.exception("MQTT callback %s", method.__name__)
            self.mux.reject(SOURCE, "handler_error")

    return wrapper  # type: ignore[return-value]


class MqttListener:
    def __init__(self, mux: NodeMux, url: str, *, ca_certs: str | None = None, keepalive: int = 30) -> None:
        self.mux = mux
        self.broker = BrokerUrl.parse(url)
        self.connected = False
        self.connects = 0
        self._keepalive = keepalive
        self._ca_certs = ca_certs
        self._client: mqtt.Client | None = None  # one per start: paho's sockets die with it at stop

    def _new_client(self) -> mqtt.Client:
        client = new_client(self.broker, f"myco-{os.getpid()}-{id(self):x}", self._ca_certs)
        client.max_queued_messages_set(1000)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def start(self) -> None:
        if self._client is not None:
            return
        self._client = self._new_client()
        self._client.connect_async(self.broker.host, self.broker.port, keepalive=self._keepalive)
        self._client.loop_start()
        log.info("MQTT connecting to %s", self.broker)

    def stop(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        client.disconnect()
        client.loop_stop()
        # paho closes its socket pair only when the client is finalised, and our callbacks make a
        # reference cycle with it, so that would wait for the garbage collector (paho issue #627);
        # reinitialise() closes them now and drops the callbacks.
        client.reinitialise()
        self.connected = False

    @_guarded
    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            log.warning("MQTT broker %s refused the connection: %s", self.broker, reason)
            return
        self.connects += 1
        client.subscribe(TOPIC, qos=0)
        log.info("MQTT connected to %s, subscribing to %s", self.broker, TOPIC)

    @_guarded
    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, properties: Any) -> None:
        # Connected means receiving: only once the broker has granted the subscription.
        if any(reason.is_failure for reason in reasons):
            log.warning("MQTT broker %s refused the subscription to %s: %s", self.broker, TOPIC, reasons)
            return
        self.connected = True
        log.info("MQTT subscribed to %s on %s", TOPIC, self.broker)

    @_guarded
    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self.connected = False
        if self._client is not None:
            log.warning("MQTT disconnected from %s (%s); reconnecting", self.broker, reason)
        else:
            log.info("MQTT disconnected from %s", self.broker)

    @_guarded
    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        payload = bytes(message.payload[:MAX_BATCH_BYTES + 1])
        try:
            topic = message.topic
        except UnicodeDecodeError:
            self.mux.reject(SOURCE, "malformed")
            return
        decoded = decode_mqtt(topic, payload)
        if isinstance(decoded, Rejection):
            self.mux.reject(SOURCE, decoded.reason)
        else:  # one reading, or a batch's (myco/nodes/batch) offered together
            self.mux.offer_many(SOURCE, [(values.node, values.values) for values in decoded])

    def __enter__(self) -> MqttListener:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
