"""The OSC listener: one blocking UDP server thread, feeding the node mux and the input queue.

python-osc parses the datagrams; :mod:`installation.nodes.codec` decides what they mean. We
use ``BlockingOSCUDPServer`` in a single thread (the threading server starts a thread per
datagram), turn strict timing off (it would sleep until a bundle's time tag), return None
from every handler (anything else is sent back to the sender) and count, rather than
silently drop, every malformed packet and unknown address. Nothing escapes the thread.
The state of commands (blackout, loop, pause) and of the show (preset, act) goes back to
whoever sent us anything lately. Projection-mapping messages (``/myco/output/...`` and
``/myco/venue/save``, see :mod:`installation.core.venue_osc`) are not decoded here: they go
whole to a ``mapping_sink`` (the app's queue, drained in the GUI thread).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from pythonosc import osc_packet
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_server import BlockingOSCUDPServer

from installation.core.events import InputQueue
from installation.core.params import Change
from installation.core.venue_osc import SAVE_ADDRESS, is_mapping_address
from installation.nodes.codec import MAX_PACKET_BYTES, PARAM_PREFIX, NodeValues, decode_osc
from installation.nodes.mux import NodeMux
from installation.nodes.validate import Rejection

log = logging.getLogger(__name__)
SOURCE = "osc"
STATE_PREFIX = "/myco/state/"
PEER_KEEP_S = 600.0  # a controller silent for ten minutes gets no more feedback
MAX_PEERS = 16


class _CountingDispatcher(Dispatcher):
    """Routes every message of a packet through the codec; counts what python-osc would drop."""

    def __init__(self, listener: OscListener) -> None:
        super().__init__(strict_timing=False)
        self._listener = listener

    def call_handlers_for_packet(self, data: bytes, client_address: tuple[str, int]) -> list[Any]:
        listener = self._listener
        if listener.peers.seen(client_address):
            listener.greet(client_address)
        if len(data) > MAX_PACKET_BYTES:
            listener.mux.reject(SOURCE, "oversize")
            return []
        try:
            messages = [timed.message for timed in osc_packet.OscPacket(data).messages]
        except Exception:  # python-osc raises ParseError, but also IndexError/struct.error on junk
            listener.mux.reject(SOURCE, "malformed")
            return []
        if not messages:  # a bundle with nothing (we could read) inside
            listener.mux.reject(SOURCE, "malformed")
        for message in messages:
            try:
                listener.handle(message.address, list(message.params))
            except Exception:  # a bug of ours must not kill the listener thread
                log.exception("OSC message %s", message.address)
                listener.mux.reject(SOURCE, "handler_error")
        return []


class _Server(BlockingOSCUDPServer):
    def verify_request(self, request: Any, client_address: Any) -> bool:
        # python-osc refuses datagrams that do not look like OSC before the dispatcher sees them.
        if super().verify_request(request, client_address):
            return True
        self._mux.reject(SOURCE, "malformed")
        return False

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.exception("OSC packet from %s", client_address)
        self._mux.reject(SOURCE, "handler_error")

    def service_actions(self) -> None:
        """Between datagrams (at least every poll interval): send what changed of the show's state."""
        try:
            self._listener.follow_state()
        except Exception:  # a bug of ours must not kill the listener thread
            log.exception("OSC state feedback")

    _mux: NodeMux
    _listener: OscListener


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
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            return self._requested_port
        return int(self._server.server_address[1])

    def start(self) -> None:
        if self._server is not None:
            return
        server = _Server((self.host, self._requested_port), _CountingDispatcher(self))
        server._mux = self.mux
        server._listener = self
        # A roomy receive buffer absorbs bursts while the one server thread is busy.
        server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"osc-{self.port}", daemon=True)
        self._thread.start()
        log.info("OSC listening on %s:%d", self.host, self.port)

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

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
        server = self._server
        if server is None or not peers:
            return
        builder = OscMessageBuilder(address)
        builder.add_arg(value)
        datagram = builder.build().dgram
        for peer in peers:
            try:
                server.socket.sendto(datagram, peer)
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
