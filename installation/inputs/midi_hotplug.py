"""Hot-plug: every port whose name matches the pattern is opened; one that vanishes is closed.

python-rtmidi has no hot-plug notifications (docs/pitfalls.md): the MIDI thread calls
:meth:`Hotplug.scan` every second to compare the server's port list with the open ports. A name
is resolved to an index right before it opens, since indices shift. A controller whose input
opens is sent the whole current state on its output (LEDs, motor faders); so is one whose output
opens after its input. When ports vanish because the whole JACK server went, they are dropped,
not closed (:mod:`installation.inputs.midi_server`). Everything here runs with the MIDI lock held.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import rtmidi

from installation.inputs.midi_ports import api_names, client_of
from installation.inputs.midi_server import MidiServer
from installation.midi.router import Router

log = logging.getLogger(__name__)


@dataclass
class InputPort:
    name: str
    midi_in: Any
    # The sender's timeline: the sum of rtmidi's deltas, exact even when the MIDI thread polls
    # late, and in JACK's own time (which runs slow against the wall clock when the server
    # stalls). MIDI clock is measured on it; everything else uses the monotonic clock.
    t: float | None = None


class Hotplug:
    """The open input and output ports of the controllers matching ``pattern``."""

    def __init__(self, server: MidiServer, router: Router, pattern: re.Pattern[str], client_name: str) -> None:
        self.server = server
        self.router = router
        self.pattern = pattern
        self.client_name = client_name
        self.inputs: dict[str, InputPort] = {}
        self.outputs: dict[str, Any] = {}
        self._last_problem = ""

    def scan(self) -> None:
        """Open new matching ports, close vanished ones."""
        try:
            if not self.server.is_open:  # the server went away: wait for it to come back
                self.server.open()
            sources = self._wanted(self.server.sources())
            sinks = self._wanted(self.server.sinks())
        except (rtmidi.RtMidiError, RuntimeError) as error:
            if str(error) != self._last_problem:  # once, not every second while the server is down
                log.warning("MIDI ports unavailable: %s", error)
                self._last_problem = str(error)
            return
        self._last_problem = ""
        vanished = [n for n in self.inputs if n not in sources] + [n for n in self.outputs if n not in sinks]
        if vanished and self.server.api == "jack" and not self.server.is_same():
            self.server_gone()  # ports vanish when the whole server goes: closing them now could crash
            return
        for name in [n for n in self.inputs if n not in sources]:
            log.warning("MIDI controller %s is gone; waiting for it to come back", name)
            self._close_input(name)
        for name in [n for n in self.outputs if n not in sinks]:
            self._close_output(name)
        for name in sinks:
            if name not in self.outputs:
                self._open_output(name)
        for name in sources:
            if name not in self.inputs:
                self._open_input(name)

    def send(self, input_name: str, message: list[int]) -> None:
        """Send ``message`` to the output of the controller that owns the input ``input_name``."""
        client = client_of(input_name)
        for name, midi_out in self.outputs.items():
            if client_of(name) == client:
                try:
                    midi_out.send_message(message)
                except (rtmidi.RtMidiError, SystemError) as error:
                    log.warning("MIDI out %s: %s", name, error)

    def server_gone(self) -> None:
        log.warning("the MIDI server stopped or restarted: every MIDI port will be reopened")
        self.abandon()

    def abandon(self) -> None:
        """The server died or restarted: drop every handle, ours and the server's, closing none."""
        for name in self.inputs:
            self.router.close_port(name)
        self.inputs.clear()
        self.outputs.clear()
        self.server.abandon()

    def close_all(self) -> None:
        for name in list(self.inputs):
            self._close_input(name)
        for name in list(self.outputs):
            self._close_output(name)
        self.server.close()

    def _wanted(self, names: Sequence[str]) -> list[str]:
        own = {f"{self.client_name}-{role}" for role in ("in", "out", "probe", "alive")}
        return [n for n in names if self.pattern.search(n) and client_of(n) not in own]

    def _open_input(self, name: str) -> None:
        midi_in = rtmidi.MidiIn(api_names()[self.server.api], name=f"{self.client_name}-in")
        try:
            index = midi_in.get_ports().index(name)  # indices shift: resolve right before opening
            midi_in.open_port(index, "in")
        except (ValueError, rtmidi.RtMidiError, SystemError) as error:
            log.warning("MIDI input %s could not open: %s", name, error)
            midi_in.delete()
            return
        midi_in.ignore_types(sysex=False, timing=False, active_sense=True)
        self.inputs[name] = InputPort(name, midi_in)
        self.router.open_port(name)
        profile = self.router.profile_for(name)
        log.info("MIDI controller %s opened (%s profile)", name, profile.name if profile else "no")
        for message in self.router.full_feedback(name):
            self.send(name, message)

    def _close_input(self, name: str) -> None:
        port = self.inputs.pop(name)
        port.midi_in.close_port()
        port.midi_in.delete()
        self.router.close_port(name)

    def _open_output(self, name: str) -> None:
        midi_out = rtmidi.MidiOut(api_names()[self.server.api], name=f"{self.client_name}-out")
        try:
            midi_out.open_port(midi_out.get_ports().index(name), "out")
        except (ValueError, rtmidi.RtMidiError, SystemError) as error:
            log.warning("MIDI output %s could not open: %s", name, error)
            midi_out.delete()
            return
        self.outputs[name] = midi_out
        for input_name in self.inputs:
            if client_of(input_name) == client_of(name):
                for message in self.router.full_feedback(input_name):
                    self.send(input_name, message)

    def _close_output(self, name: str) -> None:
        midi_out = self.outputs.pop(name)
        midi_out.close_port()
        midi_out.delete()
