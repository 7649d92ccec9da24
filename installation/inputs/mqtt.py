"""The MQTT listener: a paho-mqtt 2.x client that feeds ``myco/nodes/<id>`` readings to the mux.

The client runs in a process of its own (:mod:`installation.inputs.ingest`): it decodes and
validates there and the app takes the readings in batches, so thousands of messages a second
neither wait for the engine's GIL nor take it from the engine. ``connect_async`` +
``loop_start`` so a broker that is down at start-up is not fatal, and the client reconnects by
itself when the broker comes back; it subscribes in ``on_connect`` so the subscription returns
after every reconnect. Every callback is wrapped: an exception in a paho callback would kill
its network thread.

Loss is visible: what the app drops is counted by reason (``/status``); what the broker drops
(mosquitto's ``$SYS/broker/publish/messages/dropped``, for all its clients) is ``broker_dropped``
(None until heard: mosquitto publishes it when it changes, and its retained copy expires after a
minute, so a listener that subscribed later hears it at the next change);
QoS 0 messages published while the listener is disconnected never reach it (``connects`` > 1
says that happened).
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

from installation.inputs.ingest import Batcher, Intake, flush_until, serve
from installation.nodes.codec import MAX_BATCH_BYTES, decode_mqtt
from installation.nodes.mux import NodeMux
from installation.nodes.validate import Rejection

log = logging.getLogger(__name__)
SOURCE = "mqtt"
TOPIC = "myco/nodes/+"
BROKER_DROPPED = "$SYS/broker/publish/messages/dropped"  # mosquitto's count, every sys_interval
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
    def wrapper(self: _Receiver, *args: Any) -> None:
        try:
            method(self, *args)
        except Exception:
            log.exception("MQTT callback %s", method.__name__)
            self.batcher.reject("handler_error")

    return wrapper  # type: ignore[return-value]


class _Receiver:
    """The child process's paho client: readings to the batcher, state changes to the app."""

    def __init__(self, batcher: Batcher, broker: BrokerUrl, client_id: str, ca_certs: str | None) -> None:
        self.batcher = batcher
        self.broker = broker
        self.connects = 0
        self.stopping = False
        self._subscription = -1
        client = self.client = new_client(broker, client_id, ca_certs)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        client.message_callback_add(BROKER_DROPPED, self._on_broker_dropped)

    @_guarded
    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            self.batcher.send("refused", "connection", str(reason))
            return
        self.connects += 1
        mid = client.subscribe(TOPIC, qos=0)[1]
        self._subscription = -1 if mid is None else mid
        client.subscribe(BROKER_DROPPED, qos=0)  # a broker without it (or an ACL refusing it) is fine

    @_guarded
    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, properties: Any) -> None:
        if mid != self._subscription:
            return
        # Connected means receiving: only once the broker has granted the subscription.
        if any(reason.is_failure for reason in reasons):
            self.batcher.send("refused", f"subscription to {TOPIC}", str(reasons))
            return
        self.batcher.send("connected", True, "")

    @_guarded
    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if not self.stopping:
            self.batcher.send("connected", False, str(reason))

    @_guarded
    def _on_broker_dropped(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.batcher.send("broker_dropped", int(message.payload))

    @_guarded
    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        payload = bytes(message.payload[:MAX_BATCH_BYTES + 1])
        try:
            topic = message.topic
        except UnicodeDecodeError:
            self.batcher.reject("malformed")
            return
        decoded = decode_mqtt(topic, payload)
        if isinstance(decoded, Rejection):
            self.batcher.reject(decoded.reason)
        else:  # one reading, or a batch's (myco/nodes/batch)
            self.batcher.offer((values.node, values.values) for values in decoded)


def receive(batcher: Batcher, stop: Any, broker: BrokerUrl, client_id: str, ca_certs: str | None,
            keepalive: int) -> None:
    """The child process: the client until ``stop``."""
    receiver = _Receiver(batcher, broker, client_id, ca_certs)
    receiver.client.connect_async(broker.host, broker.port, keepalive=keepalive)
    receiver.client.loop_start()
    try:
        flush_until(batcher, stop)
    finally:
        receiver.stopping = True
        receiver.client.disconnect()
        receiver.client.loop_stop()


class MqttListener:
    def __init__(self, mux: NodeMux, url: str, *, ca_certs: str | None = None, keepalive: int = 30) -> None:
        self.mux = mux
        self.broker = BrokerUrl.parse(url)
        self.connected = False
        self.connects = 0
        self.broker_dropped: int | None = None  # None: the broker does not say
        self._keepalive = keepalive
        self._ca_certs = ca_certs
        self._intake: Intake | None = None

    def start(self) -> None:
        if self._intake is not None:
            return
        client_id = f"myco-{os.getpid()}-{id(self):x}"
        self._intake = Intake("mqtt", self.mux, SOURCE, receive,
                              (self.broker, client_id, self._ca_certs, self._keepalive), self._on_message)
        self._intake.start()
        log.info("MQTT connecting to %s", self.broker)

    def stop(self) -> None:
        intake, self._intake = self._intake, None
        if intake is not None:
            intake.stop()
        self.connected = False

    def _on_message(self, message: tuple[Any, ...]) -> None:
        """A state change from the client's process (logged here, in the app's log)."""
        if message[0] == "connected":
            was, self.connected = self.connected, bool(message[1])
            if self.connected:
                self.connects += 1
                log.info("MQTT subscribed to %s on %s", TOPIC, self.broker)
            elif was:
                log.warning("MQTT disconnected from %s (%s); reconnecting", self.broker, message[2])
        elif message[0] == "refused":
            log.warning("MQTT broker %s refused the %s: %s", self.broker, message[1], message[2])
        elif message[0] == "broker_dropped":
            self.broker_dropped = int(message[1])
        elif message[0] == "ended":
            self.connected = False

    @property
    def receiver_pid(self) -> int | None:
        """The client's process, while started."""
        return self._intake.pid if self._intake is not None else None

    def status(self) -> dict[str, object]:
        """For /status: the connection, and the loss the counters cannot see."""
        intake = self._intake
        return {"connected": self.connected, "broker": str(self.broker), "connects": self.connects,
                "broker_dropped": self.broker_dropped, "receiver_restarts": intake.restarts if intake else 0}

    def __enter__(self) -> MqttListener:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":  # the receiving process an Intake starts
    serve(receive)
