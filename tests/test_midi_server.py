"""The JACK server supervision's locking, and the MIDI thread's pause, without a restart.

A client open after the server died makes libjack free every client of the process, so the
supervisor's check that opens one must hold the lock that guards the rtmidi handles, and drop
them in the same hold (docs/pitfalls.md, python-rtmidi). The restart itself, end to end, is in
tests/test_midi_jack_restart.py.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from installation.core.events import InputQueue
from installation.inputs.midi import MidiInputs
from installation.inputs.midi_server import ServerSupervisor
from installation.registry import build_bank
from tests.services import Jack
from tests.waiting import wait_for


class FakeServer:
    """What the supervisor asks of a MidiServer, noting whether the lock was held at each question."""

    def __init__(self, lock: threading.Lock, *, socket: bool, alive: bool) -> None:
        self.lock, self.socket, self.alive = lock, socket, alive
        self.asked: list[tuple[str, bool]] = []

    def check_interval(self) -> float:
        return 1.0

    def socket_says_same(self) -> bool:
        self.asked.append(("socket", self.lock.locked()))
        return self.socket and self.alive

    def restarted(self) -> bool:  # may open a client: must be asked with the lock held
        self.asked.append(("restarted", self.lock.locked()))
        return not self.alive


def supervise(server: FakeServer, lock: threading.Lock) -> list[bool]:
    gone: list[bool] = []
    supervisor = ServerSupervisor(server, lock, lambda: gone.append(lock.locked()), threading.Event())  # type: ignore[arg-type]
    supervisor.check()
    return gone


def test_without_a_socket_the_client_opening_check_and_the_drop_happen_in_one_hold_of_the_lock() -> None:
    lock = threading.Lock()
    server = FakeServer(lock, socket=False, alive=False)
    assert supervise(server, lock) == [True]
    assert server.asked == [("socket", False), ("restarted", True)]


def test_a_live_server_seen_through_its_socket_costs_no_lock() -> None:
    lock = threading.Lock()
    server = FakeServer(lock, socket=True, alive=True)
    assert supervise(server, lock) == []
    assert server.asked == [("socket", False)]


def test_a_dead_server_seen_through_its_socket_is_checked_again_under_the_lock() -> None:
    lock = threading.Lock()
    server = FakeServer(lock, socket=True, alive=False)
    assert supervise(server, lock) == [True]
    assert server.asked == [("socket", False), ("restarted", True)]


def voluntary_switches(thread: threading.Thread) -> int:
    status = Path(f"/proc/self/task/{thread.native_id}/status").read_text()
    return int(next(line.split(":")[1] for line in status.splitlines() if line.startswith("voluntary_ctxt")))


def test_with_no_controller_open_the_midi_thread_sleeps_until_the_next_scan(jack_server: Jack) -> None:
    midi = MidiInputs(InputQueue(), build_bank(), [], pattern="matches-no-port", api="jack")
    midi.start()
    try:
        thread = wait_for(lambda: next((t for t in threading.enumerate() if t.name == "myco-midi"), None), 3,
                          "the MIDI thread")
        before = voluntary_switches(thread)
        time.sleep(2.0)
        assert voluntary_switches(thread) - before < 20, "the MIDI thread polled with nothing to poll"
    finally:
        midi.stop()
    assert not thread.is_alive()
