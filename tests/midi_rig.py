"""A test controller on virtual JACK MIDI ports, and helpers for the MIDI adapter tests."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable
from typing import Any

import rtmidi

from installation.core.events import InputQueue
from installation.core.params import ParamBank
from tests.core.midi_helpers import InputSink
from tests.services import require
from tests.waiting import wait_for


class TestController:
    """A 'hardware' controller: one JACK client sending (out) and one receiving feedback (in)."""

    __test__ = False

    def __init__(self, name: str | None = None) -> None:
        self.name = name or f"ctl{uuid.uuid4().hex[:6]}"
        self.out: Any = None
        self.inp: Any = None
        self.plug()

    def plug(self) -> None:
        self.out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=self.name)
        self.out.open_virtual_port("out")
        self.inp = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name=self.name)
        self.inp.ignore_types(sysex=False, timing=False, active_sense=True)
        self.inp.open_virtual_port("in")

    def unplug(self) -> None:
        for port in (self.out, self.inp):
            port.close_port()
            port.delete()

    def listened_to(self) -> bool:
        """Whether some JACK port is connected to this controller's out port (``jack_lsp -c``)."""
        listing = subprocess.run([require("jack_lsp"), "-c", f"{self.name}:out"], capture_output=True, text=True,
                                 timeout=10).stdout
        return any(line[:1].isspace() for line in listing.splitlines())  # connections are listed indented

    def send(self, *message: int) -> None:
        self.out.send_message(list(message))

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
        while (item := self.inp.get_message()) is not None:
            messages.append(item[0])
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
