"""The python-rtmidi port wrapper: a few lines of threads and ports around the pure Router.

One ordinary thread does all MIDI work: it polls every open input with ``get_message()``
(never the JACK real-time callback, which takes the GIL inside JACK's process thread, see
docs/pitfalls.md), hands the bytes to :class:`~installation.midi.router.Router`, puts what comes
back on the engine's :class:`~installation.core.events.InputQueue`, sends feedback (MIDI
output from this one thread only) and, every second, compares the port list with the open
ports so that a controller unplugged and plugged in again is reopened by itself.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rtmidi

from installation.core.errors import LoadError
from installation.core.events import Event, InputQueue
from installation.core.params import ParamBank, Value
from installation.inputs.midi_ports import (
    JackServerWatch,
    api_names,
    client_of,
    load_profiles,
    open_probe,
    preset_bindings,
)
from installation.midi.bindings import Binding
from installation.midi.params import param_specs
from installation.midi.profile import (
    Profile,
    learned_path,
    load_learned,
    save_learned,
)
from installation.midi.router import Router

log = logging.getLogger(__name__)

POLL_S = 0.001
SCAN_S = 1.0
SERVER_CHECK_S = 1.0  # how often JACK2's socket is checked: the server is still the same one
FRESH_CLIENT_CHECK_S = 5.0  # the same check by opening a client, where there is no socket to look at


@dataclass
class _Port:
    name: str
    midi_in: Any
    # The sender's timeline: the sum of rtmidi's deltas, exact even when this thread polls late,
    # and in JACK's own time (which runs slow against the wall clock when the server stalls).
    # MIDI clock is measured on it; everything else uses the monotonic clock.
    t: float | None = None


MessageHook = Callable[[str, list[int], float], None]


class MidiInputs:
    """All MIDI controllers whose port names match ``pattern`` (a regular expression).

    ``preset_of`` (optional) returns the current preset: when it changes, its ``[midi]``
    bindings override the profiles'. ``on_message`` sees every raw message (for a monitor).
    ``on_event`` gets every event at once, besides the engine's queue: the short path to the
    audio engine (``AudioEngine.push_event``), so a note sounds without waiting for a tick.
    """

    name = "midi"

    def __init__(self, queue: InputQueue, bank: ParamBank, profiles: Sequence[Profile] | None = None,
                 pattern: str = "", api: str | None = None, *, learned_file: Path | None = None,
                 client_name: str = "myco", preset_of: Callable[[], Any] | None = None,
                 on_message: MessageHook | None = None,
                 on_event: Callable[[Event], None] | None = None) -> None:
        self.queue = queue
        self.bank = bank
        bank.register_all(param_specs())
        self.pattern = re.compile(pattern or ".", re.IGNORECASE)
        self.requested_api = api
        self.client_name = client_name
        self.api = ""
        self.notice = ""
        self.learned_file = learned_file or learned_path()
        learned: list[Binding] = []
        try:
            learned = list(load_learned(self.learned_file).bindings)
        except LoadError as error:
            log.error("learned MIDI bindings not loaded (the file is kept as it is):\n%s", error)
        self.router = Router(load_profiles() if profiles is None else profiles, learned, self._spec_of,
                             self._value_of, self._save_learned)
        self.queue_dropped = 0
        self._preset_of = preset_of
        self._preset: Any = None
        self._on_message = on_message
        self._on_event = on_event
        self._inputs: dict[str, _Port] = {}
        self._outputs: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe: Any = None
        self._probe_in: Any = None
        self._probe_out: Any = None
        self._sentinel: Any = None
        self._sentinel_name = ""
        self._server_watch: JackServerWatch | None = None
        self._server_lost = threading.Event()
        self._watch: threading.Thread | None = None
        self._last_problem = ""

    # -- bank access for the router (any thread: snapshot and spec lookups only) -----------------
    def _spec_of(self, name: str) -> Any:
        return self.bank.spec(name) if name in self.bank else None

    def _value_of(self, name: str) -> Value | None:
        return self.bank.snapshot().get(name)

    def _save_learned(self, bindings: list[Binding]) -> None:
        try:
            save_learned(self.learned_file, bindings)
        except (OSError, LoadError) as error:
            log.error("learned MIDI bindings could not be saved to %s: %s", self.learned_file, error)

    # -- life cycle ----------------------------------------------------------------------------
    def start(self) -> None:
        self._open_probes()
        self._unsubscribe = self.bank.subscribe(lambda change: self.router.changed(
            change.name, change.value, change.source))
        self._stop.clear()
        self._scan()
        self._thread = threading.Thread(target=self._run, name="myco-midi", daemon=True)
        self._thread.start()
        if self.api == "jack":
            self._watch = threading.Thread(target=self._watch_server, name="myco-midi-server", daemon=True)
            self._watch.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in (self._thread, self._watch):
            if thread is not None:
                thread.join(timeout=5)
        self._thread = self._watch = None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        with self._lock:
            if self._sentinel_name and not self._server_is_same():
                self._abandon_all()
            self._close_all()

    def _open_probes(self) -> None:
        self._probe_in, self._probe_out, self.api, self.notice = open_probe(self.requested_api)
        self._server_watch = JackServerWatch() if self.api == "jack" else None
        # A virtual port of our own: when it vanishes from the port list, the MIDI server was
        # restarted (jackd killed and started again) and every port we hold is dead.
        before = set(self._probe_in.get_ports())
        sentinel = rtmidi.MidiOut(api_names()[self.api], name=f"{self.client_name}-alive")
        try:
            sentinel.open_virtual_port("alive")
        except rtmidi.RtMidiError:  # APIs without virtual ports (Windows MM): no restart detection
            sentinel.delete()
            return
        added = [name for name in self._probe_in.get_ports() if name not in before and name.endswith(":alive")]
        self._sentinel, self._sentinel_name = sentinel, added[0] if added else ""

    def _server_gone(self) -> None:
        log.warning("the MIDI server stopped or restarted: every MIDI port will be reopened")
        self._abandon_all()

    def _abandon_all(self) -> None:
        """The server died or restarted: drop every handle, never calling close_port() or delete().

        Once the server is gone, libjack frees every client of this process itself, on the next
        attempt (ours or anyone's in this process) to open a client; the handles' close_port()
        and delete() would then use freed memory (measured: segmentation faults, delete() in
        jack_client_close).
        Dropping a handle is safe: python-rtmidi's destructor never reaches libjack, only delete()
        does. See docs/pitfalls.md (python-rtmidi); tests/test_midi_jack_restart.py guards both.
        """
        for name in self._inputs:
            self.router.close_port(name)
        self._inputs.clear()
        self._outputs.clear()
        self._sentinel = self._probe_in = self._probe_out = None
        self._sentinel_name = ""

    def _server_is_same(self) -> bool:
        """Whether the MIDI server that holds our sentinel port still runs: JACK2's socket tells,
        else a fresh client looks (which holds the GIL while it opens: see JackServerWatch)."""
        if self._server_watch is not None and self._server_watch.available:
            return self._server_watch.same_server()
        name = self._sentinel_name
        try:
            fresh = rtmidi.MidiIn(api_names()[self.api], name=f"{self.client_name}-probe")
        except rtmidi.RtMidiError:
            return False  # the server is down
        try:
            return not name or name in fresh.get_ports()
        finally:
            fresh.delete()

    def _watch_server(self) -> None:
        while not self._stop.wait(SERVER_CHECK_S if self._server_watch is not None and
                                  self._server_watch.available else FRESH_CLIENT_CHECK_S):
            if self._sentinel_name and not self._server_is_same():
                self._server_lost.set()

    def _close_all(self) -> None:
        for name in list(self._inputs):
            self._close_input(name)
        for name in list(self._outputs):
            self._close_output(name)
        for handle in (self._sentinel, self._probe_in, self._probe_out):
            if handle is not None:
                handle.delete()
        self._sentinel = self._probe_in = self._probe_out = None
        self._sentinel_name = ""

    def __enter__(self) -> MidiInputs:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- control from other threads (UI, status server) ----------------------------------------
    def arm(self, target: str) -> None:
        with self._lock:
            self.router.arm(target)

    def cancel(self) -> None:
        with self._lock:
            self.router.cancel()

    def clear(self, target: str | None = None) -> None:
        with self._lock:
            self.router.clear(target)

    def set_overrides(self, bindings: Sequence[Binding]) -> None:
        with self._lock:
            self.router.set_overrides(bindings)

    def open_ports(self) -> list[str]:
        with self._lock:
            return sorted(self._inputs)

    def status(self) -> dict[str, Any]:
        """Counters for ``/status`` under ``inputs``."""
        with self._lock:
            ports = {name: {**vars(counts), "open": name in self._inputs}
                     for name, counts in self.router.counts.items()}
            return {"api": self.api, "notice": self.notice, "pattern": self.pattern.pattern,
                    "learning": str(self.router.learner.target or ""), "queue_dropped": self.queue_dropped,
                    "outputs": sorted(self._outputs), "ports": ports}

    # -- the MIDI thread -----------------------------------------------------------------------
    def _run(self) -> None:
        next_scan = time.monotonic() + SCAN_S
        while not self._stop.wait(POLL_S):
            now = time.monotonic()
            with self._lock:
                if self._server_lost.is_set():
                    self._server_lost.clear()
                    self._server_gone()
                if now >= next_scan:
                    next_scan = now + SCAN_S
                    self._scan()
                self._follow_preset()
                for port in self._inputs.values():
                    self._poll(port)
                self._put(self.router.tick(time.monotonic()))
                for port_name, message in self.router.feedback():
                    self._send(port_name, message)

    def _poll(self, port: _Port) -> None:
        while True:
            try:
                item = port.midi_in.get_message()
            except (rtmidi.RtMidiError, SystemError) as error:
                log.warning("MIDI port %s: %s", port.name, error)
                return
            if not item:
                return
            data, delta = item
            now = time.monotonic()
            port.t = port.t + delta if port.t is not None else now
            if self._on_message is not None:
                self._on_message(port.name, data, port.t)
            self._put(self.router.handle(port.name, data, now, clock_t=port.t))

    def _follow_preset(self) -> None:
        if self._preset_of is None:
            return
        preset = self._preset_of()
        if preset is not self._preset:
            self._preset = preset
            self.router.set_overrides(preset_bindings(preset))
            for port_name, message in self.router.preset_changed(getattr(preset, "name", "")):
                self._send(port_name, message)

    def _put(self, inputs: Sequence[Any]) -> None:
        for item in inputs:
            if self._on_event is not None and isinstance(item, Event):
                self._on_event(item)
            if not self.queue.put(item):
                self.queue_dropped += 1

    def _send(self, input_name: str, message: list[int]) -> None:
        client = client_of(input_name)
        for name, midi_out in self._outputs.items():
            if client_of(name) == client:
                try:
                    midi_out.send_message(message)
                except (rtmidi.RtMidiError, SystemError) as error:
                    log.warning("MIDI out %s: %s", name, error)

    # -- hot-plug ------------------------------------------------------------------------------
    def _wanted(self, names: Sequence[str]) -> list[str]:
        own = {f"{self.client_name}-{role}" for role in ("in", "out", "probe", "alive")}
        return [n for n in names if self.pattern.search(n) and client_of(n) not in own]

    def _scan(self) -> None:
        """Open new matching ports, close vanished ones (called with the lock held)."""
        try:
            if self._probe_in is None:  # the server went away: wait for it to come back
                self._open_probes()
            sources = self._wanted(self._probe_in.get_ports())
            sinks = self._wanted(self._probe_out.get_ports())
        except (rtmidi.RtMidiError, RuntimeError) as error:
            if str(error) != self._last_problem:  # once, not every second while the server is down
                log.warning("MIDI ports unavailable: %s", error)
                self._last_problem = str(error)
            return
        self._last_problem = ""
        vanished = [n for n in self._inputs if n not in sources] + [n for n in self._outputs if n not in sinks]
        if vanished and self.api == "jack" and not self._server_is_same():
            # Ports vanish when the whole server goes: closing them now could crash (see _abandon_all).
            self._server_gone()
            return
        for name in [n for n in self._inputs if n not in sources]:
            log.warning("MIDI controller %s is gone; waiting for it to come back", name)
            self._close_input(name)
        for name in [n for n in self._outputs if n not in sinks]:
            self._close_output(name)
        for name in sinks:
            if name not in self._outputs:
                self._open_output(name)
        for name in sources:
            if name not in self._inputs:
                self._open_input(name)

    def _open_input(self, name: str) -> None:
        midi_in = rtmidi.MidiIn(api_names()[self.api], name=f"{self.client_name}-in")
        try:
            index = midi_in.get_ports().index(name)  # indices shift: resolve right before opening
            midi_in.open_port(index, "in")
        except (ValueError, rtmidi.RtMidiError, SystemError) as error:
            log.warning("MIDI input %s could not open: %s", name, error)
            midi_in.delete()
            return
        midi_in.ignore_types(sysex=False, timing=False, active_sense=True)
        self._inputs[name] = _Port(name, midi_in)
        self.router.open_port(name)
        profile = self.router.profile_for(name)
        log.info("MIDI controller %s opened (%s profile)", name, profile.name if profile else "no")
        for message in self.router.full_feedback(name):
            self._send(name, message)

    def _close_input(self, name: str) -> None:
        port = self._inputs.pop(name)
        port.midi_in.close_port()
        port.midi_in.delete()
        self.router.close_port(name)

    def _open_output(self, name: str) -> None:
        midi_out = rtmidi.MidiOut(api_names()[self.api], name=f"{self.client_name}-out")
        try:
            midi_out.open_port(midi_out.get_ports().index(name), "out")
        except (ValueError, rtmidi.RtMidiError, SystemError) as error:
            log.warning("MIDI output %s could not open: %s", name, error)
            midi_out.delete()
            return
        self._outputs[name] = midi_out
        for input_name in self._inputs:
            if client_of(input_name) == client_of(name):
                for message in self.router.full_feedback(input_name):
                    self._send(input_name, message)

    def _close_output(self, name: str) -> None:
        midi_out = self._outputs.pop(name)
        midi_out.close_port()
        midi_out.delete()


def start(pattern: str, engine: Any, options: Any, audio: Any = None) -> MidiInputs:
    """For ``myco run --midi PATTERN [--midi-api NAME]``: MIDI into ``engine``, following its presets.

    With ``audio`` (an AudioEngine), notes also take the short path to the sound.
    """
    inputs = MidiInputs(engine.inputs, engine.bank, pattern=pattern, api=getattr(options, "midi_api", None),
                        preset_of=lambda: engine.preset,
                        on_event=audio.push_event if audio is not None else None)
    inputs.start()
    return inputs
