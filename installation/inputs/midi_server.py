"""The MIDI server under Myco's ports: our own clients on it, and whether it is still the same one.

JACK may be killed and started again under a running show (a watchdog restarting jackd). Every
handle opened on the old server is dead then, and libjack frees those clients by itself the next
time anything in the process opens a client; from then on their ``close_port()`` and ``delete()``
use freed memory (docs/pitfalls.md, python-rtmidi). So a dead server's handles are dropped, never
closed, and a client open that may be the first after the server died (the fresh-client check
below) happens only under the lock that guards every rtmidi handle, with the dead handles dropped
in the same hold: the MIDI thread never touches a handle that libjack freed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import rtmidi

from installation.inputs.midi_ports import JackServerWatch, api_names, open_probe

log = logging.getLogger(__name__)

SERVER_CHECK_S = 1.0  # how often JACK2's socket is checked: the server is still the same one
FRESH_CLIENT_CHECK_S = 5.0  # the same check by opening a client, where there is no socket to look at


class MidiServer:
    """Our clients on the MIDI server: the probes that list its ports and a sentinel port.

    The sentinel is a virtual port of our own: when it vanishes from the port list, the server
    was restarted and every port we hold is dead. Not thread-safe: the caller holds the MIDI lock
    (or runs before the MIDI thread starts or after it stopped).
    """

    def __init__(self, requested_api: str | None, client_name: str) -> None:
        self.requested_api = requested_api
        self.client_name = client_name
        self.api = ""
        self.notice = ""
        self.sentinel_name = ""
        self._probe_in: Any = None
        self._probe_out: Any = None
        self._sentinel: Any = None
        self._socket: JackServerWatch | None = None

    @property
    def is_open(self) -> bool:
        return self._probe_in is not None

    def open(self) -> None:
        """Open the probes on the API asked for (or the next that works) and the sentinel port.

        Raises ValueError for an API that python-rtmidi lacks, RuntimeError when none opens."""
        self._probe_in, self._probe_out, self.api, self.notice = open_probe(self.requested_api)
        self._socket = JackServerWatch() if self.api == "jack" else None
        before = set(self._probe_in.get_ports())
        sentinel = rtmidi.MidiOut(api_names()[self.api], name=f"{self.client_name}-alive")
        try:
            sentinel.open_virtual_port("alive")
        except rtmidi.RtMidiError:  # APIs without virtual ports (Windows MM): no restart detection
            sentinel.delete()
            return
        added = [name for name in self._probe_in.get_ports() if name not in before and name.endswith(":alive")]
        self._sentinel, self.sentinel_name = sentinel, added[0] if added else ""

    def sources(self) -> list[str]:
        """Every input port on the server (what controllers send from)."""
        return list(self._probe_in.get_ports())

    def sinks(self) -> list[str]:
        """Every output port on the server (where feedback goes)."""
        return list(self._probe_out.get_ports())

    @property
    def has_socket(self) -> bool:
        """Whether JACK2's socket can tell a restart, without opening a client (see JackServerWatch)."""
        return self._socket is not None and self._socket.available

    def check_interval(self) -> float:
        return SERVER_CHECK_S if self.has_socket else FRESH_CLIENT_CHECK_S

    def socket_says_same(self) -> bool:
        """True when JACK2's socket says the server is still the same one; False when it says not,
        or cannot tell. Opens no client and touches no rtmidi handle: any thread, no lock."""
        socket = self._socket
        return socket is not None and socket.available and socket.same_server()

    def is_same(self) -> bool:
        """Whether the server that holds our sentinel port still runs: JACK2's socket tells, else a
        fresh client looks. That opens a client, which makes libjack free a dead server's clients:
        call it with the MIDI lock held, and drop every handle at once when it says no."""
        socket = self._socket
        if socket is not None and socket.available:
            return socket.same_server()
        name = self.sentinel_name
        try:
            fresh = rtmidi.MidiIn(api_names()[self.api], name=f"{self.client_name}-probe")
        except rtmidi.RtMidiError:
            return False  # the server is down
        try:
            return not name or name in fresh.get_ports()
        finally:
            fresh.delete()

    def restarted(self) -> bool:
        """Whether the server our handles live on died or restarted (False when we know of none)."""
        return bool(self.sentinel_name) and not self.is_same()

    def abandon(self) -> None:
        """Drop our clients of a dead server, never calling close_port() or delete() on them.

        Dropping a handle is safe: python-rtmidi's destructor never reaches libjack, only delete()
        does. See docs/pitfalls.md (python-rtmidi); tests/test_midi_jack_restart.py guards both."""
        self._sentinel = self._probe_in = self._probe_out = None
        self.sentinel_name = ""

    def close(self) -> None:
        """Close our clients of a live server."""
        for handle in (self._sentinel, self._probe_in, self._probe_out):
            if handle is not None:
                handle.delete()
        self.abandon()


class ServerSupervisor:
    """A thread that notices the server die or restart (within a second with JACK2's socket, else
    five) and calls ``on_gone`` with ``lock`` held, so that every handle is dropped before the MIDI
    thread can touch one that libjack freed."""

    def __init__(self, server: MidiServer, lock: threading.Lock, on_gone: Callable[[], None],
                 stop: threading.Event) -> None:
        self.server = server
        self._lock = lock
        self._on_gone = on_gone
        self._stop = stop
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="myco-midi-server", daemon=True)
        self._thread.start()

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.server.check_interval()):
            self.check()

    def check(self) -> None:
        if self.server.socket_says_same():  # the common case, and no lock: nothing of rtmidi's is touched
            return
        with self._lock:  # again under the lock: it may open a client, and the MIDI thread may have acted
            if self.server.restarted():
                self._on_gone()
