"""MIDI clock out: 24 ticks per beat at the show's tempo, for other gear to follow Myco.

One thread of its own sends every tick at its deadline on the show's beat timeline
(:meth:`~installation.core.tempo.Tempo.time_at` of the next 24th of a beat), sleeping to that
absolute time rather than for an interval, so sleeps that overshoot never add up and a tempo
change is followed from the next tick; ticks a stall held back go out at once (followers count
ticks to know the song position). Ticks go on while the transport is stopped (followers
keep the tempo); when it starts, the next sixteenth note is announced as a song position
pointer and the transport continues from there (followers land on Myco's bar), and stop is
sent when it stops. The port is a virtual output, ``myco-clock:clock out`` on JACK, which
any follower connects to; the JACK server delivers it at the start of its next period.
"""

from __future__ import annotations

import logging
import math
import statistics
import time
from collections import deque
from typing import Any

import rtmidi

from installation.core.tempo import Tempo
from installation.inputs.midi_ports import api_names
from installation.inputs.polling import PollingThread
from installation.midi.clock import PPQN

log = logging.getLogger(__name__)

CLIENT = "myco-clock"
PORT = "clock out"
TICK, CONTINUE, STOP, SONG_POSITION = 0xF8, 0xFB, 0xFC, 0xF2
TICKS_PER_SIXTEENTH = PPQN // 4
MAX_SLEEP_S = 0.05  # wake at least this often, to notice a stop or a new tempo between slow ticks


class ClockOut(PollingThread):
    """Sends MIDI clock for ``tempo`` on a virtual port of ``api`` (the MIDI system: 'jack', 'alsa')."""

    name = "clock_out"
    thread_name = "myco-clock-out"

    def __init__(self, tempo: Tempo, api: str = "jack", clock: Any = time.monotonic) -> None:
        super().__init__()
        self.tempo = tempo
        self.api = api
        self._clock = clock
        self._out: Any = None
        self.sent = 0  # ticks sent
        self.late_ms: deque[float] = deque(maxlen=4 * 60 * PPQN)  # how late the last ticks went out (ms)

    def start(self) -> None:
        apis = api_names()
        if self.api not in apis:
            raise ValueError(f"MIDI API {self.api!r} is not one of: {', '.join(apis)}")
        out = rtmidi.MidiOut(apis[self.api], name=CLIENT)
        try:
            out.open_virtual_port(PORT)
        except rtmidi.RtMidiError:
            out.delete()
            raise
        self._out = out
        self._start_thread()

    def stop(self) -> None:
        self._stop_thread()
        if self._out is not None:
            self._out.close_port()  # the port before the client (docs/pitfalls.md)
            self._out.delete()
            self._out = None

    def status(self) -> dict[str, Any]:
        late = sorted(self.late_ms)
        return {"port": f"{CLIENT}:{PORT}", "api": self.api, "ticks_sent": self.sent,
                "late_ms_p50": round(statistics.median(late), 3) if late else None,
                "late_ms_p99": round(late[int(0.99 * (len(late) - 1))], 3) if late else None}

    def _run(self) -> None:
        running = False
        tick: int | None = None  # the next tick's place on the beat timeline, in 24ths of a beat
        while not self._stop.is_set():
            now = self._clock()
            current = self.tempo.beat_at(now) * PPQN
            # Ticks a stall delayed go out at once, so followers keep count; a jump of the timeline
            # (a tap, a relocation) or a longer stall starts the count again from the next 24th,
            # and running followers are stopped, to be told the new position at the next sixteenth.
            if tick is None or not current - PPQN < tick <= current + 1:
                if tick is not None and running:
                    self._out.send_message([STOP])
                    running = False
                tick = math.floor(current + 1e-9) + 1
            deadline = self.tempo.time_at(tick / PPQN)
            if deadline - now > MAX_SLEEP_S:
                time.sleep(MAX_SLEEP_S)
                continue
            time.sleep(max(0.0, deadline - self._clock()))
            self.late_ms.append((self._clock() - deadline) * 1000.0)
            running = self._send_transport(running, tick)
            self._out.send_message([TICK])
            self.sent += 1
            tick += 1

    def _send_transport(self, running: bool, tick: int) -> bool:
        """Start (at a sixteenth: its song position, then continue) or stop, as the tempo's
        transport says; returns whether the followers now run."""
        if self.tempo.running and not running and tick % TICKS_PER_SIXTEENTH == 0:
            sixteenths = max(0, tick // TICKS_PER_SIXTEENTH) & 0x3FFF
            self._out.send_message([SONG_POSITION, sixteenths & 0x7F, sixteenths >> 7])
            self._out.send_message([CONTINUE])
            return True
        if running and not self.tempo.running:
            self._out.send_message([STOP])
            return False
        return running
