"""The python-rtmidi port wrapper: the MIDI thread, and the façade the app and ``myco midi`` use.

One ordinary thread does all MIDI work: it polls every open input with ``get_message()``
(never the JACK real-time callback, which takes the GIL inside JACK's process thread, see
docs/pitfalls.md), hands the bytes to :class:`~installation.midi.router.Router`, puts what comes
back on the engine's :class:`~installation.core.events.InputQueue` and sends feedback (MIDI
output from this one thread only). Its two helpers: :mod:`installation.inputs.midi_hotplug`
(every second, open the ports that match, close the ones that vanished) and
:mod:`installation.inputs.midi_server` (our clients on the server, and a thread that notices it
die or restart). One lock guards the router and every rtmidi handle.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import rtmidi

from installation.core.errors import LoadError
from installation.core.events import Event, Input, InputQueue
from installation.core.params import ParamBank, ParamSpec, Value
from installation.core.presets import Preset
from installation.core.tempo import Tempo, waits
from installation.inputs.midi_hotplug import Hotplug, InputPort
from installation.inputs.midi_ports import load_profiles, preset_bindings
from installation.inputs.midi_server import MidiServer, ServerSupervisor
from installation.inputs.polling import PollingThread
from installation.midi.bindings import Binding
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

MessageHook = Callable[[str, list[int], float], None]
EventSink = Callable[[Event], None]


class MidiInputs(PollingThread):
    """All MIDI controllers whose port names match ``pattern`` (a regular expression).

    ``preset_of`` (optional) returns the current preset: when it changes, its ``[midi]``
    bindings override the profiles'. ``on_message`` sees every raw message (for a monitor).
    ``on_event`` gets every event at once, besides the engine's queue: the short path to the
    audio engine (``AudioEngine.push_event``), so a note sounds without waiting for a tick.
    ``tempo`` (optional: the engine's) is led by MIDI clock and tap tempo.
    """

    name = "midi"
    thread_name = "myco-midi"

    def __init__(self, queue: InputQueue, bank: ParamBank, profiles: Sequence[Profile] | None = None,
                 pattern: str = "", api: str | None = None, *, learned_file: Path | None = None,
                 client_name: str = "myco", preset_of: Callable[[], Preset] | None = None,
                 on_message: MessageHook | None = None, on_event: EventSink | None = None,
                 tempo: Tempo | None = None) -> None:
        super().__init__()
        self.queue = queue
        self.bank = bank
        self.pattern = re.compile(pattern or ".", re.IGNORECASE)
        self.learned_file = learned_file or learned_path()
        learned: list[Binding] = []
        try:
            learned = list(load_learned(self.learned_file).bindings)
        except LoadError as error:
            log.error("learned MIDI bindings not loaded (the file is kept as it is):\n%s", error)
        self.router = Router(load_profiles() if profiles is None else profiles, learned, self._spec_of,
                             self._value_of, self._save_learned)
        self.router.tempo = tempo  # MIDI clock and taps lead the show's tempo from this thread, on their own times
        self.server = MidiServer(api, client_name)
        self.ports = Hotplug(self.server, self.router, self.pattern, client_name)
        self.queue_dropped = 0
        self._preset_of = preset_of
        self._preset: Preset | None = None
        self._on_message = on_message
        self._on_event = on_event
        self._lock = threading.Lock()
        # turns of the MIDI thread done: after one that began later than a message, all it made is posted
        self.turns = 0
        self._next_scan = 0.0
        self._supervisor: ServerSupervisor | None = None
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def api(self) -> str:
        """The MIDI API in use ('jack', 'alsa', ...); empty before :meth:`start`."""
        return self.server.api

    @property
    def notice(self) -> str:
        """Why another API than the one asked for is in use; empty when none was needed."""
        return self.server.notice

    # -- bank access for the router (any thread: snapshot and spec lookups only) -----------------
    def _spec_of(self, name: str) -> ParamSpec | None:
        return self.bank.spec(name) if name in self.bank else None

    def _value_of(self, name: str) -> Value | None:
        return self.bank.base_snapshot().get(name)  # soft takeover meets the value set, not the modulated one

    def _save_learned(self, bindings: list[Binding]) -> None:
        try:
            save_learned(self.learned_file, bindings)
        except (OSError, LoadError) as error:
            log.error("learned MIDI bindings could not be saved to %s: %s", self.learned_file, error)

    # -- life cycle ----------------------------------------------------------------------------
    def start(self) -> None:
        self.server.open()
        self._unsubscribe = self.bank.subscribe(lambda change: self.router.changed(
            change.name, change.value, change.source))
        self._stop.clear()
        self.ports.scan()
        self._start_thread()
        if self.server.api == "jack":
            self._supervisor = ServerSupervisor(self.server, self._lock, self.ports.server_gone, self._stop)
            self._supervisor.start()

    def stop(self) -> None:
        self._stop_thread()
        if self._supervisor is not None:
            self._supervisor.join(timeout=5)
            self._supervisor = None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        with self._lock:
            if self.server.restarted():
                self.ports.abandon()
            self.ports.close_all()

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
            return sorted(self.ports.inputs)

    def status(self) -> dict[str, Any]:
        """Counters for ``/status`` under ``inputs``."""
        with self._lock:
            ports = {name: {**vars(counts), "open": name in self.ports.inputs}
                     for name, counts in self.router.counts.items()}
            return {"api": self.api, "notice": self.notice, "pattern": self.pattern.pattern,
                    "learning": str(self.router.learner.target or ""), "queue_dropped": self.queue_dropped,
                    "outputs": sorted(self.ports.outputs), "ports": ports}

    # -- the MIDI thread -----------------------------------------------------------------------
    def _run(self) -> None:
        self._next_scan = time.monotonic() + SCAN_S
        self._pause()
        while not self._stop.is_set():
            self._turn()
            self._pause()

    def _pause(self) -> None:
        """Until the next turn: ``POLL_S`` while a controller is open, else until the next scan.

        rtmidi's JACK input has nothing to wait on but its callback, which runs in JACK's real-time
        thread and takes the GIL (docs/pitfalls.md), so this thread polls. ``time.sleep`` is the
        cheapest wakeup Python has (``Event.wait`` builds a lock each time); with no input open,
        nothing can arrive or need feedback before the scan that opens one. The figures, and why
        this thread stays in the GUI's process: docs/midi.md, benchmarks/bench_midi_process.py.
        """
        if self.ports.inputs:
            time.sleep(POLL_S)
        else:
            self._stop.wait(max(0.0, self._next_scan - time.monotonic()))

    def _turn(self) -> None:
        """One turn of the MIDI thread: scan when due, read every input, glides, feedback."""
        now = time.monotonic()
        with self._lock:
            if now >= self._next_scan:
                self._next_scan = now + SCAN_S
                self.ports.scan()
            self._follow_preset()
            for port in self.ports.inputs.values():
                self._poll(port)
            self._put(self.router.tick(time.monotonic()))
            self._put(self.router.controls())
            for port_name, message in self.router.feedback():
                self.ports.send(port_name, message)
        self.turns += 1

    def _poll(self, port: InputPort) -> None:
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
            for port_name, message in self.router.preset_changed(preset.name):
                self.ports.send(port_name, message)

    def _put(self, inputs: Sequence[Input]) -> None:
        for item in inputs:
            # the short path to the sound, unless the event waits for its beat or bar
            if self._on_event is not None and isinstance(item, Event) and not waits(item, self.bank):
                self._on_event(item)
            if not self.queue.put(item):
                self.queue_dropped += 1


def start(pattern: str, *, queue: InputQueue, bank: ParamBank, api: str | None = None,
          preset_of: Callable[[], Preset] | None = None, on_event: EventSink | None = None,
          tempo: Tempo | None = None) -> MidiInputs:
    """For ``myco run --midi PATTERN [--midi-api NAME]``: the controllers matching ``pattern``, started.

    Inputs go to ``queue`` (the engine's), parameters are looked up in ``bank``; ``preset_of``
    returns the current preset, whose ``[midi]`` bindings then override the profiles';
    ``on_event`` also gets every event at once: the short path to the sound (the audio
    engine's ``push_event``), so a note sounds without waiting for the engine's tick.
    """
    inputs = MidiInputs(queue, bank, pattern=pattern, api=api, preset_of=preset_of, on_event=on_event, tempo=tempo)
    inputs.start()
    return inputs
