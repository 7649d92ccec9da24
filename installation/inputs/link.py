"""Ableton Link: join the session on the local network, follow its tempo and phase, or lead it.

Through LinkPython-extern (``import link``), the binding of Ableton's own C++ library: it
gives the session state with explicit times (``beatAtTime``, ``forceBeatAtTime``), which lets
a thread of ours poll without a callback in Link's threads, and put the session's beat
exactly on Myco's beat timeline. (aalink, the other maintained binding, is built around
asyncio; Myco has no event loop to give it.)

Every :data:`POLL_S` the thread reads the session. While Link leads the show's tempo (see
:mod:`installation.core.tempo`: ``auto`` with peers and no MIDI clock, or ``link``), Myco takes
the session's tempo and its beat (bars of ``tempo.beats_per_bar``, Link's quantum), and a
manual change made in Myco (a tap, ``tempo.bpm``) is committed to the session for every peer.
Otherwise Myco leads: its tempo and beat are forced onto the session when they differ (the
way Link bridges an external clock), so the band's MIDI clock reaches Link apps too.

Link's clock is CLOCK_MONOTONIC_RAW in microseconds; its offset from ``time.monotonic`` is
read at every turn, the two reads a microsecond apart.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import link

from installation.core.tempo import Source, Tempo
from installation.inputs.polling import PollingThread

log = logging.getLogger(__name__)

POLL_S = 0.01
PHASE_TOLERANCE_BEATS = 0.001  # a difference this small is not worth forcing onto every peer
TEMPO_TOLERANCE_BPM = 0.005


class LinkSession(PollingThread):
    """Myco in the Link session: following or leading ``tempo`` (see the module's text)."""

    name = "link"
    thread_name = "myco-link"

    def __init__(self, tempo: Tempo) -> None:
        super().__init__()
        self.tempo = tempo
        self._link: Any = None
        self._pushed_changes = tempo.manual_changes
        self._playing: bool | None = None
        self.peers = 0
        self.pushes = 0  # times Myco set the session's tempo or phase

    def start(self) -> None:
        session = link.Link(self.tempo.bpm)
        session.startStopSyncEnabled = True
        session.enabled = True
        self._link = session
        self._start_thread()

    def stop(self) -> None:
        self._stop_thread()
        if self._link is not None:
            self._link.enabled = False
            self._link = None

    def status(self) -> dict[str, Any]:
        return {"peers": self.peers, "leading": self.tempo.source is not Source.LINK, "pushes": self.pushes}

    def _run(self) -> None:
        while not self._stop.wait(POLL_S):
            try:
                self.turn()
            except Exception:  # a failing turn must not end the session: say so, go on
                log.exception("Link")

    def turn(self) -> None:
        """Follow or lead the session once (the thread's work; a test may call it)."""
        session = self._link
        now = time.monotonic()
        micros = session.clock().micros()
        offset = micros / 1e6 - now
        state = session.captureAppSessionState()
        self.peers = session.numPeers()
        quantum = float(self.tempo.beats_per_bar)
        if self.peers and self.tempo.manual_changes != self._pushed_changes and self.tempo.source is Source.LINK:
            self._pushed_changes = self.tempo.manual_changes  # a change made in Myco, for the whole session
            state.setTempo(self.tempo.bpm, micros)
            session.commitAppSessionState(state)
            self.pushes += 1
            return
        self._pushed_changes = self.tempo.manual_changes
        if self.peers and self.tempo.offer(Source.LINK, now, state.tempo(), state.beatAtTime(micros, quantum)):
            playing = bool(state.isPlaying())
            if playing != self._playing:
                self._playing = playing
                self.tempo.transport(Source.LINK, now, playing)
            return
        self._lead(session, state, now, offset, quantum)

    def _lead(self, session: Any, state: Any, now: float, offset: float, quantum: float) -> None:
        """Put Myco's tempo, beat and transport on the session where they differ."""
        micros = round((now + offset) * 1e6)
        bpm, beat = self.tempo.bpm, self.tempo.beat_at(now)
        changed = False
        if abs(state.tempo() - bpm) > TEMPO_TOLERANCE_BPM:
            state.setTempo(bpm, micros)
            changed = True
        if changed or abs(state.beatAtTime(micros, quantum) - beat) > PHASE_TOLERANCE_BEATS:
            state.forceBeatAtTime(beat, micros, quantum)
            changed = True
        if bool(state.isPlaying()) != self.tempo.running:
            state.setIsPlaying(self.tempo.running, micros)
            changed = True
        if changed:
            session.commitAppSessionState(state)
            self.pushes += 1
