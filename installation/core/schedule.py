"""Opening hours: when the room is open, in the venue's own time zone (``[schedule]``).

```toml
[schedule]
timezone = "Europe/Berlin"           # an IANA zone name (the system's time zone database)
monday = []                          # closed; a day not written is closed too
tuesday = [["10:00", "18:00"]]       # opening spans in local wall-clock time, start < end
sunday = [["10:00", "14:00"], ["15:00", "22:00"]]
friday = [["18:00", "26:00"]]        # an end past midnight is written past 24:00 (up to 48:00)
closing = { fade = 30.0, night = "live" }     # seconds to black and silence; "live" or "pause"
opening = { fade = 10.0, start = "continue" } # seconds back in; "continue" or "restart"

[[schedule.exception]]               # a date whose hours replace its weekday's
date = "2026-12-24"                  # or a TOML date: 2026-12-24
hours = []                           # closed that day
note = "Christmas Eve"               # optional, for the technician
```

A span opens at its start and closes at its end (``[start, end)``); a start is 00:00 to
23:59 and an end up to 48:00, so a late opening past midnight belongs to the day it
begins on (an exception for that date replaces it; the next day's own hours still apply).
Spans of one day must not overlap; touching spans, and spans of two days that meet or
overlap across midnight, are one opening (no transition between them).

Wall-clock times become instants with :mod:`zoneinfo`. A time that does not exist (it
falls in the hour skipped when the clocks go forward) means the first instant after the
gap: ``02:30`` on a spring-forward day in Berlin is 03:00 CEST. A time that exists twice
(the hour repeated when the clocks go back) means its first occurrence (``fold=0``), so
every boundary happens once a day. A span that lies wholly inside a gap never opens.
:func:`state_at` is a pure function of the schedule and an aware instant; tests give it
any instant instead of waiting for real hours.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from installation.core.tomlsource import Checker

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")  # date.weekday() order
NIGHTS = ("live", "pause")  # closed: the organism lives on (dark and silent), or the show timeline holds too
STARTS = ("continue", "restart")  # at opening: go on where it is, or start the show from its first act
MAX_FADE_S = 3600.0
MAX_SPANS = 12  # opening spans on one day
MAX_EXCEPTIONS = 1000
LOOKAHEAD_DAYS = 400  # next_change is None when nothing changes within this many days
_NEAR_DAYS = 9  # the first, cheap look around now; the full window only when it finds no change
SCHEDULE_KEYS = {"timezone", *DAYS, "closing", "opening", "exception"}
EXCEPTION_KEYS = {"date", "hours", "note"}
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")

Span = tuple[int, int]  # minutes after the local midnight of its day: start in [0, 1440), end in (start, 2880]


@dataclass(frozen=True)
class Closing:
    fade_s: float = 30.0
    night: str = "live"  # NIGHTS


@dataclass(frozen=True)
class Opening:
    fade_s: float = 10.0
    start: str = "continue"  # STARTS


@dataclass(frozen=True)
class Schedule:
    timezone: str
    week: tuple[tuple[Span, ...], ...] = ((),) * 7  # Monday first
    exceptions: tuple[tuple[date, tuple[Span, ...]], ...] = ()  # (date, its hours), by date
    closing: Closing = field(default_factory=Closing)
    opening: Opening = field(default_factory=Opening)

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def _by_date(self) -> dict[date, tuple[Span, ...]]:
        return dict(self.exceptions)

    def hours_on(self, day: date) -> tuple[Span, ...]:
        """The spans beginning on ``day``: its exception's if it has one, else its weekday's."""
        found = self._by_date.get(day)
        return found if found is not None else self.week[day.weekday()]


@dataclass(frozen=True)
class ScheduleState:
    open: bool
    since: datetime | None  # when the current state began (aware, UTC); None if not within the days looked at
    next_change: datetime | None  # the next transition (aware, UTC); None if none within LOOKAHEAD_DAYS
    next_open: datetime | None  # the next time it opens strictly after now (aware, UTC); None if none
    next_close: datetime | None  # the next time it closes strictly after now (aware, UTC); None if none


# -- reading ----------------------------------------------------------------------------------

def format_minutes(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(checker: Checker, value: object, key: str, latest: int) -> int | None:
    found = _TIME.match(value) if isinstance(value, str) else None
    if found is None:
        checker.fail(key, f'must be a time "HH:MM", got {value!r}')
        return None
    hours, minutes = int(found.group(1)), int(found.group(2))
    total = hours * 60 + minutes
    if minutes >= 60 or total > latest:
        checker.fail(key, f"{value!r} is not a time from 00:00 to {format_minutes(latest)}")
        return None
    return total


def _spans(checker: Checker, value: object, key: str) -> tuple[Span, ...]:
    if not isinstance(value, list):
        checker.fail(key, 'must be a list of opening spans [["HH:MM", "HH:MM"], ...] ([] is closed)')
        return ()
    if len(value) > MAX_SPANS:
        checker.fail(key, f"more than {MAX_SPANS} spans")
        return ()
    spans: list[Span] = []
    for index, item in enumerate(value):
        where = f"{key}[{index}]"
        if not isinstance(item, list) or len(item) != 2:
            checker.fail(where, 'must be a span ["HH:MM", "HH:MM"] (start, end)')
            continue
        start = _minutes(checker, item[0], where, 24 * 60 - 1)
        end = _minutes(checker, item[1], where, 48 * 60)
        if start is None or end is None:
            continue
        if end <= start:
            checker.fail(where, f"ends ({item[1]}) before it starts ({item[0]}); "
                                "an end past midnight is written past 24:00, e.g. 26:00")
            continue
        spans.append((start, end))
    spans.sort()
    for (_, end), (start, later_end) in pairwise(spans):
        if start < end:
            checker.fail(key, f"spans {format_minutes(start)}-{format_minutes(later_end)} and one ending "
                              f"{format_minutes(end)} overlap")
            return ()
    return tuple(spans)


def _timezone(checker: Checker, table: Mapping[str, Any]) -> str:
    name = checker.string(table, "timezone", "schedule.timezone")
    if not name:
        if isinstance(table.get("timezone"), str):
            checker.fail("schedule.timezone", "must name a time zone (an IANA name like 'Europe/Berlin')")
        return "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        checker.fail("schedule.timezone", f"{name!r} is not a time zone (an IANA name like 'Europe/Berlin')")
        return "UTC"
    return name


def _choice(checker: Checker, table: Mapping[str, Any], name: str, key: str, choices: tuple[str, ...]) -> str:
    value = checker.string(table, name, key, choices[0])
    if value not in choices:
        checker.fail(key, f"{value!r} is not one of: {', '.join(choices)}")
        return choices[0]
    return value


def _date(checker: Checker, value: object, key: str) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else None
        except ValueError:
            pass
    checker.fail(key, "missing" if value is None else f'must be a date "YYYY-MM-DD", got {value!r}')
    return None


def parse_schedule(checker: Checker, data: Mapping[str, Any]) -> Schedule | None:
    """The ``[schedule]`` of a venue document, or None without one; every problem is recorded
    at its key on ``checker``."""
    if "schedule" not in data:
        return None
    table = checker.table(data, "schedule", "schedule")
    if not isinstance(data["schedule"], dict):
        return None  # the checker has the problem
    checker.unknown_keys(table, SCHEDULE_KEYS, "schedule")
    timezone = _timezone(checker, table)
    week = tuple(_spans(checker, table.get(day, []), f"schedule.{day}") for day in DAYS)
    closing_table = checker.table(table, "closing", "schedule.closing", required=False)
    checker.unknown_keys(closing_table, {"fade", "night"}, "schedule.closing")
    closing = Closing(checker.number(closing_table, "fade", "schedule.closing.fade", 30.0, 0.0, MAX_FADE_S),
                      _choice(checker, closing_table, "night", "schedule.closing.night", NIGHTS))
    opening_table = checker.table(table, "opening", "schedule.opening", required=False)
    checker.unknown_keys(opening_table, {"fade", "start"}, "schedule.opening")
    opening = Opening(checker.number(opening_table, "fade", "schedule.opening.fade", 10.0, 0.0, MAX_FADE_S),
                      _choice(checker, opening_table, "start", "schedule.opening.start", STARTS))
    exceptions: dict[date, tuple[Span, ...]] = {}
    for index, item in enumerate(checker.tables(table, "exception", "schedule.exception", MAX_EXCEPTIONS)):
        where = f"schedule.exception[{index}]"
        checker.unknown_keys(item, EXCEPTION_KEYS, where)
        if "note" in item:
            checker.string(item, "note", f"{where}.note")
        day = _date(checker, item.get("date"), f"{where}.date")
        if "hours" not in item:
            checker.fail(where, 'missing hours (a list of spans; [] is closed)')
        hours = _spans(checker, item.get("hours", []), f"{where}.hours")
        if day is None:
            continue
        if day in exceptions:
            checker.fail(f"{where}.date", f"{day.isoformat()} already has an exception")
            continue
        exceptions[day] = hours
    return Schedule(timezone, week, tuple(sorted(exceptions.items())), closing, opening)


# -- when it is open ------------------------------------------------------------------------

def resolve_local(wall: datetime, zone: ZoneInfo) -> datetime:
    """The instant (aware, UTC) of the naive local ``wall`` time in ``zone``: its first
    occurrence if the clocks went back over it, the first instant after the gap if they
    skipped it."""
    utc = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) == wall:
        return utc
    other = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    low, high = sorted((utc, other))  # local(low) is before the gap, local(high) after it
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle.astimezone(zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high


def _midnight(zone: ZoneInfo, day: date) -> datetime:
    return resolve_local(datetime.combine(day, time()), zone)


def openings(schedule: Schedule, first: date, last: date) -> list[tuple[datetime, datetime]]:
    """The opening intervals ``[open, close)`` (aware, UTC) of the spans beginning on the days
    ``first`` to ``last``, sorted, those that meet or overlap merged."""
    zone = schedule.zone
    found: list[tuple[datetime, datetime]] = []
    day = first
    while day <= last:
        midnight = datetime.combine(day, time())
        for start, end in schedule.hours_on(day):
            opens = resolve_local(midnight + timedelta(minutes=start), zone)
            closes = resolve_local(midnight + timedelta(minutes=end), zone)
            if closes > opens:
                found.append((opens, closes))
        day += timedelta(days=1)
    found.sort()
    merged: list[tuple[datetime, datetime]] = []
    for opens, closes in found:
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
        else:
            merged.append((opens, closes))
    return merged


def state_at(schedule: Schedule, now: datetime) -> ScheduleState:
    """Whether the room is open at ``now`` (aware, any zone), since when, and what comes next."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("state_at needs an aware datetime (with a time zone)")
    now = now.astimezone(UTC)
    today = now.astimezone(schedule.zone).date()
    state = _state_within(schedule, now, today, _NEAR_DAYS)
    if state.since is None or state.next_change is None:
        state = _state_within(schedule, now, today, LOOKAHEAD_DAYS + 1)
    return state


def _state_within(schedule: Schedule, now: datetime, today: date, days: int) -> ScheduleState:
    first, last = today - timedelta(days=days), today + timedelta(days=days)
    intervals = openings(schedule, first, last)
    # Spans of days before ``first`` end before ``lower`` (an end is at most 48:00); those of
    # days after ``last`` start at ``upper`` or later: an interval is only known exactly
    # strictly inside these bounds.
    lower = _midnight(schedule.zone, first + timedelta(days=1))
    upper = _midnight(schedule.zone, last + timedelta(days=1))
    before = [interval for interval in intervals if interval[0] <= now]
    after = [interval for interval in intervals if interval[0] > now]
    current = before[-1] if before and now < before[-1][1] else None
    if current is not None:
        opened, closes = current
        next_open = after[0][0] if after else None
        return ScheduleState(True, opened if opened > lower else None, closes if closes < upper else None,
                             next_open, closes if closes < upper else None)
    closed = before[-1][1] if before and before[-1][1] > lower else None
    if not after:
        return ScheduleState(False, closed, None, None, None)
    opens, closes = after[0]
    return ScheduleState(False, closed, opens, opens, closes if closes < upper else None)
