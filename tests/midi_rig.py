"""A test controller on virtual JACK MIDI ports, and helpers for the MIDI adapter tests."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from installation.core.events import InputQueue
from installation.core.params import ParamBank
from installation.inputs.midi import MidiInputs
from tests.core.midi_helpers import InputSink
from tests.services import jack_connected, require
from tests.waiting import wait_for

REPO = Path(__file__).resolve().parent.parent


class TestController:
    """A 'hardware' controller: a JACK MIDI out port it sends from and an in port for feedback.

    It lives in a process of its own (``tests/midi_controller.py``) and is unplugged by killing
    that process, as hardware vanishes: closing rtmidi's JACK ports races libjack's notification
    thread (jack2 issue #216), which crashed the test process on a loaded machine.
    """

    __test__ = False

    def __init__(self, name: str | None = None) -> None:
        self.name = name or f"ctl{uuid.uuid4().hex[:6]}"
        self.process: subprocess.Popen[str] | None = None
        self._got: queue.SimpleQueue[list[int]] = queue.SimpleQueue()
        self._reader: threading.Thread | None = None
        self.plug()

    def plug(self) -> None:
        """Open the ports (on the server in use now); a controller still running is lost first."""
        self._kill()
        process = subprocess.Popen([sys.executable, "-m", "tests.midi_controller", self.name], cwd=REPO,
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert process.stdout is not None
        ready = process.stdout.readline()
        if ready.strip() != "ready":
            process.kill()
            process.wait()
            raise AssertionError(f"the test controller {self.name} did not start: {ready!r}")
        self.process = process
        self._reader = threading.Thread(target=self._read, args=(process.stdout,), daemon=True)
        self._reader.start()

    def unplug(self) -> None:
        """Pull the cable: the ports vanish, and this returns once the server no longer lists them."""
        self._kill()
        wait_for(lambda: not self._ports_listed(), 10, f"the ports of {self.name} to vanish")

    def _kill(self) -> None:
        if self.process is None:
            return
        self.process.kill()
        self.process.wait()
        assert self._reader is not None and self.process.stdin is not None
        self._reader.join(5)
        self.process.stdin.close()
        self.process = self._reader = None

    def _read(self, stream: IO[str]) -> None:
        with stream:
            for line in stream:
                words = line.split()
                if words[:1] == ["got"]:
                    self._got.put([int(word) for word in words[1:]])

    def _ports_listed(self) -> bool:
        listing = subprocess.run([require("jack_lsp")], capture_output=True, text=True, timeout=10).stdout
        return any(line.split(":")[0].startswith(self.name) for line in listing.splitlines())

    def listened_to(self) -> bool:
        """Whether some JACK port is connected to this controller's out port (``jack_lsp -c``)."""
        return jack_connected(f"{self.name}:out")

    def send(self, *message: int) -> None:
        assert self.process is not None and self.process.stdin is not None, f"{self.name} is unplugged"
        self.process.stdin.write("send " + " ".join(str(byte) for byte in message) + "\n")
        self.process.stdin.flush()

    def collect(self, count: int, timeout: float = 3.0) -> list[list[int]]:
        """Wait until ``count`` messages came back (feedback) and return them."""
        got: list[list[int]] = []

        def enough() -> bool:
            got.extend(self.received())
            return len(got) >= count

        wait_for(enough, timeout, f"{count} messages back from Myco")
        return got

    def received(self) -> list[list[int]]:
        messages = []
        while not self._got.empty():
            messages.append(self._got.get())
        return messages


class Applier(InputSink):
    """Drains the input queue into a bank the way the engine does, keeping events and commands."""

    def __init__(self, queue: InputQueue, bank: ParamBank) -> None:
        super().__init__(bank)
        self.queue = queue

    def drain(self) -> int:
        return len(self.apply(self.queue.drain()))

    def until(self, predicate: Callable[[], Any], timeout: float = 3.0) -> Any:
        def drained() -> Any:
            self.drain()
            return predicate()
        return wait_for(drained, timeout, "the drained MIDI inputs to meet the test's condition")


def received(midi: MidiInputs) -> int:
    """Messages the MIDI layer has read from every port so far."""
    return sum(int(port["received"]) for port in midi.status()["ports"].values())


@contextmanager
def listening(midi: MidiInputs, controller: TestController) -> Iterator[MidiInputs]:
    """``midi`` started with ``controller``'s port open and connected in JACK's graph, stopped after
    (the port is found by a hot-plug scan, once a second: a loaded machine may take a few)."""
    midi.start()
    try:
        wait_for(midi.open_ports, 10, "the controller's port to open")
        wait_for(controller.listened_to, 10, "the controller's port to be connected")
        yield midi
    finally:
        midi.stop()


def send_through(controller: TestController, midi: MidiInputs, *message: int) -> None:
    """Send ``message`` and return once the MIDI thread has read it and posted all it makes (a
    whole turn of the thread after the one that read it began), without guessing a time."""
    count = received(midi)
    controller.send(*message)
    wait_for(lambda: received(midi) > count, 10, f"MIDI message {message} to arrive")
    turn = midi.turns
    wait_for(lambda: midi.turns > turn, 10, "the MIDI thread's turn to end")
