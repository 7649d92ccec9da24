"""The keeper of the opening hours: what the engine must do, and when, on an injected clock.

:class:`OpeningHours` holds the state applied (open or closed) and, on each
:meth:`~OpeningHours.update` (once an engine step), compares it with what the schedule
says for the clock's time. A difference is one :class:`Transition` to carry out; so
however far the clock jumps forward, only the state at its new time is applied, once
(a jump over a whole closed night changes nothing). When the clock goes back, the time
is held at the latest instant it reached until the clock passes it again, so nothing is
repeated; a jump back of more than :data:`BACKWARD_HOLD` is taken as a fresh start (the
state at the new time is applied, once). The first update after start applies the
scheduled state at once, without a fade (an app started at night starts dark).

:meth:`~OpeningHours.open_now` and :meth:`~OpeningHours.close_now` override the schedule
until its next change; without a schedule, a manual close lasts until the next open.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from installation.core.schedule import Closing, Opening, Schedule, ScheduleState, state_at

Clock = Callable[[], datetime]
BACKWARD_HOLD = timedelta(days=1)  # a clock set back further than this starts afresh
RECHECK = timedelta(hours=1)  # with no change within the look-ahead, look again this often


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Transition:
    """One change of state for the engine to carry out."""

    open: bool
    at: datetime  # when it was due (scheduled) or given (manual), aware UTC
    fade_s: float  # over how long the picture and the sound fade; 0 at once
    hold: bool | None = None  # set the show timeline's pause to this (night = "pause"); None leaves it
    restart: bool = False  # start the show from its first act (opening.start = "restart")
    manual: bool = False  # open_now / close_now


class OpeningHours:
    def __init__(self, schedule: Schedule | None, now: Clock = utc_now) -> None:
        self._schedule = schedule
        self.clock = now  # aware datetimes; tests give their own
        self.open = True  # the state applied: the engine starts open
        self.since: datetime | None = None
        self._started = False
        self._reached: datetime | None = None  # the latest instant the clock showed
        self._cached: ScheduleState | None = None
        self._cached_at: datetime | None = None
        self._override: bool | None = None  # open_now / close_now, until _until
        self._until: datetime | None = None
        self._held_by_night = False  # the closing paused the show timeline

    @property
    def schedule(self) -> Schedule | None:
        return self._schedule

    @schedule.setter
    def schedule(self, schedule: Schedule | None) -> None:
        """A re-read venue: the next update follows the new hours (a manual override ends)."""
        if schedule != self._schedule:
            self._schedule = schedule
            self._cached = None
            if self._started:  # before the first update, an override can only be a resumed one: it stays
                self._override = self._until = None

    @property
    def override(self) -> bool:
        return self._override is not None

    # -- each step --------------------------------------------------------------------------
    def update(self) -> Transition | None:
        """The transition due since the last update (at most one: the latest state), or None."""
        if self._schedule is None and self._override is None and self.open:
            return None  # always open: the clock is not even read
        now = self._time()
        wanted, since = self._wanted(now)
        first = not self._started
        self._started = True
        if wanted == self.open:
            return None
        return self._apply(wanted, since or now, manual=False, fade=not first)

    def open_now(self) -> Transition | None:
        return self._manual(True)

    def close_now(self) -> Transition | None:
        return self._manual(False)

    # -- snapshots (installation.core.snapshot) ---------------------------------------------
    def save_state(self) -> dict[str, Any]:
        """The operator's override (open now / close now, until when) and the night's hold."""
        return {"open": self.open, "override": self._override, "until": _iso(self._until),
                "held_by_night": self._held_by_night}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Put back :meth:`save_state`'s state and override; if the wanted state changed meanwhile,
        the first update applies it at once (no fade), as at any start. Raises ValueError for a
        malformed state."""
        override = state.get("override")
        if override is not None and not isinstance(override, bool):
            raise ValueError(f"override {override!r} is not a boolean")
        until = datetime.fromisoformat(state["until"]) if state.get("until") else None
        self._override, self._until = override, until
        self.open = bool(state.get("open", True))  # a fade to it in progress goes on in the parameters
        self._held_by_night = bool(state.get("held_by_night", False))
        self._cached = None

    # -- what /status shows -----------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """The state applied, since when, the next change and whether an override holds."""
        schedule = self._schedule
        if schedule is None and self._override is None and self.open:
            return {"open": True, "always": True}
        now = self._reached or self.clock().astimezone(UTC)
        next_change = self.next_change(now)
        return {
            "open": self.open,
            "since": _iso(self.since),
            "next_change": _iso(next_change),
            "next_change_in_s": None if next_change is None else round((next_change - now).total_seconds(), 1),
            "next_state": None if next_change is None else ("closed" if self.open else "open"),
            "override": self._override is not None,
            "timezone": schedule.timezone if schedule is not None else "",
        }

    def next_change(self, now: datetime) -> datetime | None:
        """When the state applied will next change (aware UTC), or None."""
        schedule = self._schedule
        if self._override is not None:
            if self._until is None or schedule is None:
                return None
            after = state_at(schedule, self._until)
            return self._until if after.open != self.open else after.next_change
        if schedule is None:
            return None
        state = self._scheduled(now)
        if state is None:
            return None
        return state.next_change if state.open == self.open else now

    # -- internals --------------------------------------------------------------------------
    def _time(self) -> datetime:
        """The clock's time, held at the latest instant reached while the clock is behind it."""
        now = self.clock().astimezone(UTC)
        reached = self._reached
        if reached is not None and now < reached:
            if reached - now <= BACKWARD_HOLD:
                return reached
            self._cached = None  # a fresh start
        self._reached = now
        return now

    def _scheduled(self, now: datetime) -> ScheduleState | None:
        schedule = self._schedule
        if schedule is None:
            return None
        cached, at = self._cached, self._cached_at
        if (cached is None or at is None or now < at
                or (cached.next_change is not None and now >= cached.next_change)
                or (cached.next_change is None and now - at >= RECHECK)):
            cached = self._cached = state_at(schedule, now)
            self._cached_at = now
        return cached

    def _wanted(self, now: datetime) -> tuple[bool, datetime | None]:
        if self._override is not None:
            if self._until is None or now < self._until:
                return self._override, None
            self._override = self._until = None  # the next scheduled change ends it
        state = self._scheduled(now)
        if state is None:
            return True, None
        return state.open, state.since

    def _manual(self, wanted: bool) -> Transition | None:
        now = self._time()
        self._started = True
        state = self._scheduled(now)
        scheduled = True if state is None else state.open
        if wanted == scheduled:
            self._override = self._until = None
        else:
            self._override, self._until = wanted, None if state is None else state.next_change
        if wanted == self.open:
            return None
        return self._apply(wanted, now, manual=True, fade=True)

    def _apply(self, wanted: bool, at: datetime, *, manual: bool, fade: bool) -> Transition:
        schedule = self._schedule
        closing = schedule.closing if schedule is not None else Closing()
        opening = schedule.opening if schedule is not None else Opening()
        self.open, self.since = wanted, at
        if wanted:
            hold = False if self._held_by_night else None
            self._held_by_night = False
            return Transition(True, at, opening.fade_s if fade else 0.0, hold, opening.start == "restart", manual)
        pause = closing.night == "pause"
        self._held_by_night = pause
        return Transition(False, at, closing.fade_s if fade else 0.0, True if pause else None, False, manual)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds")
