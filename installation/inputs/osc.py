"""The OSC listener: a UDP socket read in a process of its own, feeding the node mux and the input queue.

The app binds the socket; a child process (:mod:`installation.inputs.ingest`) inherits it, waits
in ``select`` and then drains every datagram already waiting (up to ``DRAIN``) without blocking,
so a burst costs one wake-up. Readings take :func:`installation.nodes.codec.parse_osc`, which
makes no object per message, and are validated there; the app takes them in batches, so a
flood neither waits for the engine's GIL nor takes it from the engine. Every other datagram
(commands, parameters, projection mapping, anything the fast parser does not read) goes whole
to the app, whose thread handles it as before: python-osc's parser decodes it or fails, and
:mod:`installation.nodes.codec` decides what it means. Bundle time tags are ignored (applied on
arrival). Every malformed packet and unknown address is counted, not silently dropped; nothing
escapes the thread. The state of commands (blackout, loop, pause) and of the show (preset, act)
goes back to whoever sent us anything lately. Projection-mapping messages (``/myco/output/...``
and ``/myco/venue/save``, see :mod:`installation.core.venue_osc`) are not decoded here: they go
whole to a ``mapping_sink`` (the app's queue, drained in the GUI thread).
"""

from __future__ import annotations

import logging
import os
import select
import socket
import struct
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pythonosc import osc_packet
from pythonosc.osc_message_builder import OscMessageBuilder

from installation.core.events import InputQueue
from installation.core.params import Change
from installation.core.venue_osc import SAVE_ADDRESS, is_mapping_address
from installation.inputs.ingest import FLUSH_S, Batcher, Intake, serve
from installation.nodes.codec import MAX_PACKET_BYTES, NODE_PREFIX, PARAM_PREFIX, NodeValues, decode_osc, parse_osc
from installation.nodes.mux import NodeMux
from installation.nodes.validate import Rejection

log = logging.getLogger(__name__)
SOURCE = "osc"
STATE_PREFIX = "/myco/state/"
PEER_KEEP_S = 600.0  # a controller silent for ten minutes gets no more feedback
MAX_PEERS = 16
RECEIVE_BUFFER = 4 << 20  # absorbs bursts while the reader is busy (Linux caps it at net.core.rmem_max)
DRAIN = 512  # datagrams taken per wake-up at most, so feedback and stop are not starved
POLL_S = 0.1


class _Readings:
    """A datagram's readings, each decoded or rejected; None when it holds anything else (or
    nothing the fast parser reads), for the app to handle whole.

    A node sends the same address and type tags every time: for a datagram of one reading of
    numbers (``,f``, ``,ffff``, ``,i``...), what its head means (the node, the values' names, their
    binary format) is kept by the head's bytes, so the next one from that node costs one unpack
    instead of a parse and a decode."""

    MOST = 16384  # heads kept (one per node and format); forgotten all at once beyond

    def __init__(self) -> None:
        self._heads: dict[bytes, tuple[str, tuple[str, ...], struct.Struct] | None] = {}

    def __call__(self, data: bytes) -> list[NodeValues | Rejection] | None:
        if len(data) > MAX_PACKET_BYTES:
            return None
        head = self._head(data)
        if head is not None:
            known = self._heads.get(data[:head])
            if known is not None and len(data) == head + known[2].size:
                node, names, layout = known
                return [NodeValues(node, dict(zip(names, layout.unpack_from(data, head), strict=True)))]
        decoded = self._decode(data)
        if head is not None and decoded is not None and len(decoded) == 1:
            self._learn(data, head, decoded[0])
        return decoded

    @staticmethod
    def _head(data: bytes) -> int | None:
        """Where the arguments of a single message start (after the padded address and tags)."""
        address_end = data.find(b"\0")
        if address_end <= 0 or data[0:1] != b"/":
            return None
        tags = (address_end + 4) & ~3
        tags_end = data.find(b"\0", tags)
        if tags_end < 0 or data[tags:tags + 1] != b",":
            return None
        return (tags_end + 4) & ~3

    def _learn(self, data: bytes, head: int, reading: NodeValues | Rejection) -> None:
        tags = data[data.find(b",") + 1:data.find(b"\0", data.find(b","))].decode("latin-1")
        if not isinstance(reading, NodeValues) or not tags or set(tags) - {"f", "i"}:
            return
        if len(self._heads) >= self.MOST:
            self._heads.clear()
        self._heads[data[:head]] = (reading.node, tuple(map(str, reading.values)), struct.Struct(">" + tags))

    @staticmethod
    def _decode(data: bytes) -> list[NodeValues | Rejection] | None:
        messages = parse_osc(data)
        if not messages or not all(address.startswith(NODE_PREFIX) for address, _ in messages):
            return None
        decoded: list[NodeValues | Rejection] = []
        for address, args in messages:
            value = decode_osc(address, args)
            if not isinstance(value, (NodeValues, Rejection)):
                return None
            decoded.append(value)
        return decoded


def receive(batcher: Batcher, stop: threading.Event, fd: int) -> None:
    """The reader process: drain the socket (the app's, inherited) until ``stop``; readings to the
    batcher, the new peers (each once a second at most) and every other datagram to the app."""
    sock = socket.socket(fileno=fd)
    heard: dict[Any, float] = {}
    readings_of = _Readings()
    flushed = time.monotonic()
    while not stop.is_set():
        if select.select([sock], [], [], FLUSH_S)[0]:
            items: list[tuple[object, Mapping[Any, object]]] = []  # one wake-up's readings: one offer
            peers: list[Any] = []  # and its new peers: one message (thousands of nodes, a port each)
            now = time.monotonic()
            for _ in range(DRAIN):
                try:
                    data, address = sock.recvfrom(65536)
                except BlockingIOError:
                    break
                except OSError as error:  # e.g. an ICMP error from a feedback peer gone away
                    log.debug("OSC receive: %s", error)
                    continue
                if now - heard.get(address, -2.0) > 1.0:
                    if len(heard) >= 8192:  # thousands of nodes, each from a port of its own
                        heard.clear()
                    heard[address] = now
                    peers.append(address)
                readings = readings_of(data)
                if readings is None:
                    batcher.send("datagram", data, address)
                    continue
                for reading in readings:
                    if isinstance(reading, Rejection):
                        batcher.reject(reading.reason)
                    else:
                        items.append((reading.node, reading.values))
            if peers:
                batcher.send("peers", peers)
            batcher.offer(items)
        now = time.monotonic()
        if now - flushed >= FLUSH_S:
            batcher.flush()
            flushed = now


class Peers:
    """The addresses that sent to us lately: they get the feedback (a controller app such as
    TouchOSC listens where it sends from, so its buttons show Myco's state)."""

    def __init__(self, keep_s: float = PEER_KEEP_S, most: int = MAX_PEERS) -> None:
        self._seen: dict[tuple[str, int], float] = {}
        self._keep_s = keep_s
        self._most = most
        self._lock = threading.Lock()

    def seen(self, address: tuple[str, int]) -> bool:
        """Note ``address``; True when it is new (or had aged out)."""
        with self._lock:
            new = self._seen.pop(address, None) is None
            self._seen[address] = time.monotonic()
            while len(self._seen) > self._most:  # the oldest goes first
                del self._seen[next(iter(self._seen))]
            return new

    def current(self) -> list[tuple[str, int]]:
        now = time.monotonic()
        with self._lock:
            for address in [a for a, t in self._seen.items() if now - t > self._keep_s]:
                del self._seen[address]
            return list(self._seen)


class OscListener:
    """Listens on ``host:port`` (loopback by default; port 0 picks a free one)."""

    def __init__(self, mux: NodeMux, inputs: InputQueue, host: str = "127.0.0.1", port: int = 9000, *,
                 state_of: Callable[[], Mapping[str, str | int]] | None = None,
                 mapping_sink: Callable[[str, list[Any]], bool] | None = None) -> None:
        """``state_of`` gives the show's state (e.g. ``{"preset": ..., "act": ...}``), sent to the
        peers as ``/myco/state/<key>`` when it changes and to a new peer at once. ``mapping_sink``
        takes each projection-mapping message (address, arguments) from this thread and returns
        False when it has no room (its queue is full); without one they are refused (``no_venue``)."""
        self.mux = mux
        self._mapping_sink = mapping_sink
        self.inputs = inputs
        self.peers = Peers()
        self.sent = 0
        self._state_of = state_of
        self._state: Mapping[str, str | int] = {}
        self.host = host
        self._requested_port = port
        self._socket: socket.socket | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None  # the state feedback
        self._intake: Intake | None = None

    @property
    def port(self) -> int:
        if self._socket is None:
            return self._requested_port
        return int(self._socket.getsockname()[1])

    def start(self) -> None:
        if self._socket is not None:
            return
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
            sock.bind((self.host, self._requested_port))
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)  # the reader waits in select
        self._socket = sock
        self._stopping.clear()
        self._intake = Intake(f"osc-{self.port}", self.mux, SOURCE, receive, (sock.fileno(),), self._on_message,
                              pass_fds=(sock.fileno(),))
        try:
            self._intake.start()
        except Exception:
            self._socket = self._intake = None
            sock.close()
            raise
        self._thread = threading.Thread(target=self._feedback_loop, name=f"osc-{self.port}", daemon=True)
        self._thread.start()
        log.info("OSC listening on %s:%d", self.host, self.port)

    def stop(self) -> None:
        sock, thread, intake = self._socket, self._thread, self._intake
        if sock is None:
            return
        self._stopping.set()
        if intake is not None:
            intake.stop()
        if thread is not None:
            thread.join(timeout=5)
        sock.close()
        self._socket = self._thread = self._intake = None

    @property
    def receiver_pid(self) -> int | None:
        """The reader's process, while started."""
        return self._intake.pid if self._intake is not None else None

    def socket_dropped(self) -> int | None:
        """Datagrams the kernel dropped because the socket's buffer was full (the reader fell
        behind): loss no counter of ours can see, from ``/proc/net/udp``; None where unknown."""
        sock = self._socket
        if sock is None:
            return None
        inode = str(os.fstat(sock.fileno()).st_ino)
        for table in ("/proc/net/udp", "/proc/net/udp6"):
            try:
                lines = Path(table).read_text().splitlines()[1:]
            except OSError:
                continue
            for fields in (line.split() for line in lines):
                if len(fields) > 12 and fields[9] == inode:
                    return int(fields[12])
        return None

    def _feedback_loop(self) -> None:
        while not self._stopping.wait(POLL_S):
            try:
                self.follow_state()
            except Exception:  # a bug of ours must not kill the feedback thread
                log.exception("OSC state feedback")

    def _on_message(self, message: tuple[Any, ...]) -> None:
        """From the reader: the peers first heard (or again after a second), or a datagram that is
        not only readings."""
        if message[0] == "peers":
            for peer in message[1]:
                if self.peers.seen(peer):
                    self.greet(peer)
        elif message[0] == "datagram":
            self._take([(message[1], message[2])])

    def _take(self, batch: list[tuple[bytes, Any]]) -> None:
        """One wake-up's datagrams: readings gathered for one offer to the mux, the rest handled in turn."""
        readings: list[tuple[object, Mapping[Any, object]]] = []
        peer = None
        for data, address in batch:
            if address != peer:
                peer = address
                if self.peers.seen(address):
                    self.greet(address)
            try:
                for message_address, args in self._messages(data):
                    if message_address.startswith(NODE_PREFIX):
                        decoded = decode_osc(message_address, args)
                        if isinstance(decoded, NodeValues):
                            readings.append((decoded.node, decoded.values))
                        elif isinstance(decoded, Rejection):
                            self.mux.reject(SOURCE, decoded.reason)
                    else:
                        self.handle(message_address, args)
            except Exception:  # a bug of ours must not kill the listener thread
                log.exception("OSC packet from %s", address)
                self.mux.reject(SOURCE, "handler_error")
        if readings:
            self.mux.offer_many(SOURCE, readings)

    def _messages(self, data: bytes) -> list[tuple[str, list[Any]]]:
        """The packet's messages; an unreadable or oversize packet, or an empty bundle, is counted here."""
        if len(data) > MAX_PACKET_BYTES:
            self.mux.reject(SOURCE, "oversize")
            return []
        messages = parse_osc(data)
        if messages is None:
            try:
                messages = [(timed.message.address, list(timed.message.params))
                            for timed in osc_packet.OscPacket(data).messages]
            except Exception:  # python-osc raises ParseError, but also IndexError/struct.error on junk
                messages = []
        if not messages:  # junk, or a bundle with nothing (we could read) inside
            self.mux.reject(SOURCE, "malformed")
        return messages

    def feedback(self, change: Change) -> None:
        """Send a command's state (``/myco/param/<name> value``) to every recent peer."""
        value = change.value
        self._send(PARAM_PREFIX + change.name, float(value) if isinstance(value, (int, float)) else str(value),
                   self.peers.current())  # bools as 1.0/0.0

    def follow_state(self) -> None:
        """Send each entry of the show's state that changed since the last call to every peer."""
        if self._state_of is None:
            return
        state = dict(self._state_of())
        for key, value in state.items():
            if self._state.get(key) != value:
                self._send(STATE_PREFIX + key, value, self.peers.current())
        self._state = state

    def greet(self, peer: tuple[str, int]) -> None:
        """A new peer gets the whole state at once, so its display is right before anything changes."""
        for key, value in self._state.items():
            self._send(STATE_PREFIX + key, value, [peer])

    def _send(self, address: str, value: float | str, peers: list[tuple[str, int]]) -> None:
        sock = self._socket
        if sock is None or not peers:
            return
        builder = OscMessageBuilder(address)
        builder.add_arg(value)
        datagram = builder.build().dgram
        for peer in peers:
            try:
                sock.sendto(datagram, peer)
                self.sent += 1
            except OSError as error:  # a peer gone from the network: it ages out of the list
                log.debug("OSC feedback to %s: %s", peer, error)

    def handle(self, address: str, args: list[Any]) -> None:
        if is_mapping_address(address) or address == SAVE_ADDRESS:
            self._handle_mapping(address, args)
            return
        decoded = decode_osc(address, args)
        if isinstance(decoded, Rejection):
            self.mux.reject(SOURCE, decoded.reason)
        elif isinstance(decoded, NodeValues):
            self.mux.offer(SOURCE, decoded.node, decoded.values)
        else:
            self.mux.counters.received(SOURCE)
            if not self.mux.limiter.allow(SOURCE):  # floods of events or parameters too
                self.mux.counters.dropped(SOURCE, "rate_limited")
            elif self.inputs.put(decoded):
                self.mux.counters.accepted(SOURCE)
            else:
                self.mux.counters.dropped(SOURCE, "queue_full")

    def _handle_mapping(self, address: str, args: list[Any]) -> None:
        """A venue edit or action: checked by the app (``venue_osc``), which counts the malformed."""
        sink = self._mapping_sink
        if sink is None:
            self.mux.reject(SOURCE, "no_venue")
            return
        self.mux.counters.received(SOURCE)
        if not self.mux.limiter.allow(SOURCE):
            self.mux.counters.dropped(SOURCE, "rate_limited")
        elif sink(address, args):
            self.mux.counters.accepted(SOURCE)
        else:
            self.mux.counters.dropped(SOURCE, "queue_full")

    def __enter__(self) -> OscListener:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":  # the receiving process an Intake starts
    serve(receive)
