"""The one tempo of the running show: its bpm, its bars, and a beat timeline.

:class:`Tempo` maps a monotonic time (seconds, ``time.monotonic``'s clock) to a beat
position: ``beat_at(t) = beat0 + (t - t0) * bpm / 60`` from the last anchor, so the phase
is exact at any instant, not only at the engine's 60 Hz steps. A tempo change re-anchors at
its own time, keeping the beat continuous; an external source that knows where the beat is
(MIDI clock after start or a song position, Ableton Link) re-anchors the phase too.

Where the tempo comes from (:class:`Source`): ``internal`` (the operator's ``tempo.bpm``),
``tap``, ``midi`` (clock in) or ``link``. The operator picks what to follow
(:class:`Follow`, parameter ``tempo.follow``): ``auto`` follows MIDI clock while it ticks,
else Link while it has peers, else the manual tempo; ``midi`` or ``link`` follow only that
one; ``manual`` follows neither. A followed source that goes quiet (nothing for
:data:`QUIET_S`) leaves its last tempo running free, and manual changes apply again.

The beat timeline never stops: ``running`` is the transport (MIDI start/stop, the operator's
``tempo.running``), which clock out and Link pass on; what moves with the beat keeps moving.

Sources call in from their own threads (the MIDI thread, the Link thread), so every method
takes the one lock; all are cheap.

In a cluster (``app/cluster.py``) the show's tempo runs on the show's own time on every member
and the sources steer :attr:`Tempo.outside` instead, on the machine's clock: the leader steps
what they set (a :class:`Stamp`) into every member's tempo at one step, a follower's own are
ignored.
"""

from __future__ import annotations

import itertools
import math
import statistics
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from installation.core.commands import TEMPO_PARAMS, Command, Quantum
from installation.core.events import STORY_EVENTS, CommandInput, Event, Input
from installation.core.params import ParamBank, ParamSpec, bool_param, enum_param, float_param, int_param

MIN_BPM, MAX_BPM = 20.0, 300.0
QUIET_S = 1.0  # an external source silent this long no longer leads


class Source(StrEnum):
    INTERNAL = "internal"
    TAP = "tap"
    MIDI = "midi"
    LINK = "link"


class Follow(StrEnum):
    AUTO = "auto"
    MANUAL = "manual"
    MIDI = "midi"
    LINK = "link"


MANUAL_SOURCES = (Source.INTERNAL, Source.TAP)
LAUNCHES = frozenset({Command.PRESET, Command.NEXT_ACT, Command.PREVIOUS_ACT, Command.JUMP_ACT})
PERFORMERS = frozenset({"midi", "osc", "ui", "http"})  # sources of a performer's launches

BPM, FOLLOW, BEATS_PER_BAR, RUNNING, QUANTIZE = TEMPO_PARAMS  # live state: no recall resets them


def param_specs() -> list[ParamSpec]:
    return [
        float_param(BPM, 120.0, MIN_BPM, MAX_BPM, unit="BPM", label="Tempo",
                    description="The show's tempo: set it, tap it, or it shows the followed clock's"),
        enum_param(FOLLOW, Follow.AUTO, tuple(Follow), label="Follow",
                   description="auto: MIDI clock while it ticks, else Link while it has peers, else "
                               "the manual tempo; midi or link: only that; manual: neither"),
        int_param(BEATS_PER_BAR, 4, 1, 16, label="Beats per bar", description="Beats in a bar"),
        bool_param(RUNNING, True, label="Running",
                   description="The transport: MIDI start/stop sets it; clock out and Link pass it on"),
        enum_param(QUANTIZE, Quantum.NOW, tuple(Quantum), label="Launch on",
                   description="When acts, presets and events a performer starts land, unless the "
                               "command says: now, the next beat, or the next bar"),
    ]


@dataclass(frozen=True)
class Stamp:
    """The tempo in effect and where the beat is at one instant: what a cluster's leader steps
    into every member's tempo (:meth:`Tempo.take`)."""

    bpm: float
    beat: float
    running: bool
    source: Source


@dataclass(frozen=True)
class Position:
    """Where the beat timeline is at one instant."""

    beat: float         # beats since the timeline's zero (a MIDI start or song position sets it)
    bar: int            # whole bars since zero
    beat_in_bar: int    # 0 .. beats_per_bar - 1
    phase: float        # 0 <= phase < 1 within the beat


class TapTempo:
    """Tempo from taps: the median of the last intervals; a long pause starts over."""

    def __init__(self, keep: int = 6) -> None:
        self._taps: deque[float] = deque(maxlen=keep)

    def tap(self, t: float) -> float | None:
        if self._taps and not 60.0 / MAX_BPM <= t - self._taps[-1] <= 60.0 / MIN_BPM:
            self._taps.clear()
        self._taps.append(t)
        if len(self._taps) < 2:
            return None
        interval = statistics.median(b - a for a, b in itertools.pairwise(self._taps))
        return 60.0 / interval


class Tempo:
    """The show's tempo and beat timeline; thread-safe (see the module's text)."""

    def __init__(self, bpm: float = 120.0, beats_per_bar: int = 4, follow: Follow = Follow.AUTO,
                 t: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._bpm = _clamp(bpm)
        self._t0 = t
        self._beat0 = 0.0
        self._beats_per_bar = beats_per_bar
        self._follow = Follow(follow)
        self._source = Source.INTERNAL
        self._heard: dict[Source, float] = {}  # when each external source last spoke
        self._running = True
        self._taps = TapTempo()
        self.manual_changes = 0  # counts manual tempo changes (the Link adapter pushes each one)
        self._shown_bpm = self._bpm  # what follow_bank last showed in the bank
        self._shown_running = True
        self.changes = 0  # counts changes of the tempo, the phase, the transport or the source
        # in a cluster, the tempo the sources (tap, MIDI clock, Link) steer instead of this one
        self.outside: Tempo | None = None

    # -- what others read -------------------------------------------------------------------
    @property
    def bpm(self) -> float:
        return self._bpm

    @property
    def source(self) -> Source:
        return self._source

    @property
    def follow(self) -> Follow:
        return self._follow

    @property
    def beats_per_bar(self) -> int:
        return self._beats_per_bar

    @property
    def running(self) -> bool:
        return self._running

    def beat_at(self, t: float) -> float:
        """The beat position at monotonic time ``t`` (a float: 3.5 is half-way into beat 3)."""
        with self._lock:
            return self._beat0 + (t - self._t0) * self._bpm / 60.0

    def time_at(self, beat: float) -> float:
        """The monotonic time at which the timeline reaches ``beat`` at the present tempo."""
        with self._lock:
            return self._t0 + (beat - self._beat0) * 60.0 / self._bpm

    def position(self, t: float) -> Position:
        beat = self.beat_at(t)
        whole = math.floor(beat)
        bar, in_bar = divmod(whole, self._beats_per_bar)
        return Position(beat, int(bar), int(in_bar), beat - whole)

    def next_boundary(self, t: float, quantum: Quantum) -> float:
        """The beat of the next beat or bar line at or after ``t`` (``quantum`` now: ``t``'s beat)."""
        beat = self.beat_at(t)
        if quantum is Quantum.NOW:
            return beat
        size = 1 if quantum is Quantum.BEAT else self._beats_per_bar
        return math.ceil(beat / size - 1e-9) * size

    def status(self, t: float) -> dict[str, object]:
        """For ``/status``: the tempo, where it comes from, and where the beat is at ``t``."""
        position = self.position(t)
        return {"bpm": round(self._bpm, 2), "source": str(self._source), "follow": str(self._follow),
                "running": self._running, "beats_per_bar": self._beats_per_bar, "beat": round(position.beat, 3),
                "bar": position.bar + 1, "beat_in_bar": position.beat_in_bar + 1}  # counted from 1, as musicians do

    # -- who leads --------------------------------------------------------------------------
    def _live(self, source: Source, t: float) -> bool:
        return t - self._heard.get(source, -math.inf) <= QUIET_S

    def _leader(self, t: float) -> Source | None:
        """The external source that leads at ``t``, or None (the manual tempo)."""
        if self._follow in (Follow.AUTO, Follow.MIDI) and self._live(Source.MIDI, t):
            return Source.MIDI
        if self._follow in (Follow.AUTO, Follow.LINK) and self._live(Source.LINK, t):
            return Source.LINK
        return None

    def settle(self, t: float) -> Source:
        """Note at ``t`` a source gone quiet: its last tempo runs on, as ``internal``. Returns the source."""
        with self._lock:
            if self._source not in MANUAL_SOURCES and self._leader(t) is None:
                self._source = Source.INTERNAL
                self.changes += 1
            return self._source

    # -- sources -----------------------------------------------------------------------------
    def offer(self, source: Source, t: float, bpm: float, beat: float | None = None) -> bool:
        """An external source's tempo at ``t``, and its beat there when it knows it.

        Returns whether it leads now (else only its presence is noted). A beat re-anchors the
        phase; without one the beat stays continuous at ``t``.
        """
        if self.outside is not None:
            return self.outside.offer(source, t, bpm, beat)
        with self._lock:
            self._heard[source] = t
            if self._leader(t) is not source:
                return False
            self._source = source
            self._set(t, bpm, beat)
            return True

    def set_bpm(self, bpm: float, t: float, source: Source = Source.INTERNAL) -> bool:
        """A manual tempo (the operator, a tap): applies unless MIDI clock leads. Link takes it
        as a change to the whole session (its adapter pushes it); returns whether it applied."""
        with self._lock:
            leader = self._leader(t)
            if leader is Source.MIDI:
                return False
            if leader is None:
                self._source = source
            self._set(t, bpm, None)
            self.manual_changes += 1
            return True

    def tap(self, t: float) -> float | None:
        """A tap at ``t``: from the second tap on, the tempo of the recent taps, with this tap on
        a beat. Returns the tempo set, or None (a first tap, or a clock that leads)."""
        if self.outside is not None:
            return self.outside.tap(t)
        with self._lock:
            bpm = self._taps.tap(t)
        if bpm is None or not self.set_bpm(bpm, t, Source.TAP):
            return None
        with self._lock:
            self._set(t, self._bpm, float(round(self._beat0)))  # _set anchored at t: beat0 is t's beat
        return bpm

    def locate(self, t: float, beat: float) -> None:
        """Put the timeline at ``beat`` at ``t`` (MIDI start: 0; a song position)."""
        with self._lock:
            self._set(t, self._bpm, beat)

    def set_running(self, running: bool) -> None:
        with self._lock:
            if running != self._running:
                self._running = running
                self.changes += 1

    def transport(self, source: Source, t: float, running: bool) -> None:
        """An external source's start/continue (True) or stop (False), for the transport when
        that source may lead (its beat comes with its next tempo)."""
        if self.outside is not None:
            self.outside.transport(source, t, running)
            return
        with self._lock:
            self._heard[source] = t
            if (self._follow is Follow.AUTO or self._follow.value == source.value) and running != self._running:
                self._running = running
                self.changes += 1

    def set_follow(self, follow: Follow | str) -> None:
        with self._lock:
            self._follow = Follow(follow)

    def set_beats_per_bar(self, beats: int) -> None:
        if beats < 1:
            raise ValueError(f"beats per bar must be 1 or more, got {beats}")
        with self._lock:
            self._beats_per_bar = beats

    def _set(self, t: float, bpm: float, beat: float | None) -> None:
        """Under the lock: ``bpm`` from ``t`` on, with ``beat`` at ``t`` (None: continuous)."""
        if beat is None:
            beat = self._beat0 + (t - self._t0) * self._bpm / 60.0
        self._t0, self._beat0, self._bpm = t, beat, _clamp(bpm)
        self.changes += 1

    # -- a cluster (app/cluster.py) -----------------------------------------------------------
    def stamp(self, t: float) -> Stamp:
        """The tempo in effect, with the beat at ``t``."""
        with self._lock:
            return Stamp(self._bpm, self._beat0 + (t - self._t0) * self._bpm / 60.0, self._running, self._source)

    def take(self, t: float, stamp: Stamp) -> None:
        """The leader's tempo from ``t`` on: its bpm, its beat at ``t``, its transport and source
        (a clock that leads is heard at ``t``, so manual changes wait for it as on the leader)."""
        with self._lock:
            self._set(t, stamp.bpm, stamp.beat)
            self._running, self._source = stamp.running, stamp.source
            if stamp.source not in MANUAL_SOURCES:
                self._heard[stamp.source] = t

    def save_state(self) -> dict[str, object]:
        """Everything the beat of the next steps depends on, exactly (the cluster's snapshot:
        a joiner's beat goes on bit for bit as the leader's)."""
        with self._lock:
            return {"t0": self._t0, "beat0": self._beat0, "bpm": self._bpm, "running": self._running,
                    "source": str(self._source), "follow": str(self._follow), "beats_per_bar": self._beats_per_bar,
                    "heard": {str(source): t for source, t in self._heard.items()},
                    "shown_bpm": self._shown_bpm, "shown_running": self._shown_running}

    def restore_state(self, state: Mapping[str, Any]) -> None:
        """What :meth:`save_state` took. Raises KeyError, ValueError or TypeError for anything else."""
        heard = {Source(source): float(t) for source, t in dict(state["heard"]).items()}
        values = (float(state["t0"]), float(state["beat0"]), _clamp(float(state["bpm"])), bool(state["running"]),
                  Source(state["source"]), Follow(state["follow"]), int(state["beats_per_bar"]), heard,
                  float(state["shown_bpm"]), bool(state["shown_running"]))
        with self._lock:
            (self._t0, self._beat0, self._bpm, self._running, self._source, self._follow, self._beats_per_bar,
             self._heard, self._shown_bpm, self._shown_running) = values
            self.changes += 1

    # -- the parameter bank ------------------------------------------------------------------
    def follow_bank(self, bank: ParamBank, t: float) -> Quantum:
        """Once a step (the engine's thread): take the operator's changes to the ``tempo.*``
        parameters, then show the tempo in effect in ``tempo.bpm`` and the transport in
        ``tempo.running`` (so MIDI feedback, OSC and the UI see a followed clock's tempo).
        Returns when performers' launches land by default (``tempo.quantize``); a bank
        without the tempo's parameters (a test's) leaves the tempo alone: launches land at once."""
        if QUANTIZE not in bank:
            return Quantum.NOW
        self.set_follow(str(bank.get(FOLLOW)))
        self.set_beats_per_bar(int(bank.number(BEATS_PER_BAR)))
        wanted = bank.number(BPM)
        if abs(wanted - self._shown_bpm) > 1e-6:
            self.set_bpm(wanted, t)
        running = bool(bank.get(RUNNING))
        if running != self._shown_running:
            self.set_running(running)
        self.settle(t)
        shown = round(self._bpm, 2)
        if abs(shown - wanted) > 1e-6 or self._running != running:
            bank.set_many({BPM: shown, RUNNING: self._running}, "tempo", immediate=True)
        self._shown_bpm, self._shown_running = shown, self._running
        return Quantum(str(bank.get(QUANTIZE)))


def _clamp(bpm: float) -> float:
    if not math.isfinite(bpm):
        raise ValueError(f"tempo must be a finite number of BPM, got {bpm}")
    return min(MAX_BPM, max(MIN_BPM, float(bpm)))


class Launches:
    """Performers' launches held for the next beat or bar, released at the step nearest the line.

    A command asks with its ``at`` (``beat``, ``bar``, ``now``); without one, ``tempo.quantize``
    decides for a performer's acts, presets and story events (never for the show's own cues
    or the opening hours).
    """

    def __init__(self, tempo: Tempo) -> None:
        self.tempo = tempo
        self._held: list[tuple[float, Input]] = []  # (beat it waits for, the input), in arrival order

    @property
    def waiting(self) -> list[tuple[float, Input]]:
        return list(self._held)

    def take(self, inputs: Iterable[Input], t: float, dt: float, default: Quantum) -> list[Input]:
        """Of ``inputs`` (just arrived) and those held, what the step at ``t`` (lasting ``dt``) applies:
        an input is due at the step whose middle is nearest its line, so it lands within half a step."""
        for item in inputs:
            quantum = _quantum(item, default)
            self._held.append((self.tempo.next_boundary(t, quantum) if quantum is not Quantum.NOW else -math.inf,
                               item))
        reach = self.tempo.beat_at(t + dt / 2)
        due = [item for beat, item in self._held if beat <= reach]
        self._held = [(beat, item) for beat, item in self._held if beat > reach]
        return due


def waits(item: Input, bank: ParamBank) -> bool:
    """Whether the engine will hold ``item`` for a beat or bar (then no short path may sound it first)."""
    return QUANTIZE in bank and _quantum(item, Quantum(str(bank.get(QUANTIZE)))) is not Quantum.NOW


def _quantum(item: Input, default: Quantum) -> Quantum:
    if isinstance(item, CommandInput):
        if item.command not in LAUNCHES:
            return Quantum.NOW
        return Quantum(item.at) if item.at else default if item.source in PERFORMERS else Quantum.NOW
    if isinstance(item, Event) and item.kind in STORY_EVENTS and item.source in PERFORMERS:
        return default
    return Quantum.NOW
