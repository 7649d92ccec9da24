"""Opening hours: the venue's [schedule], every problem at its line, and when it is open."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from installation.core.errors import LoadError
from installation.core.schedule import Closing, Opening, Schedule, parse_schedule, resolve_local, state_at
from installation.core.tomlsource import Checker, TomlSource, parse_document
from installation.core.venue import parse_venue, render_venue

pytestmark = pytest.mark.core

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")

WEEK = '''
[schedule]
timezone = "Europe/Berlin"
monday = []
tuesday = [["10:00", "18:00"]]
wednesday = [["10:00", "18:00"]]
thursday = [["10:00", "18:00"]]
friday = [["10:00", "18:00"], ["20:00", "26:00"]]
saturday = [["10:00", "24:00"]]
sunday = [["10:00", "14:00"], ["15:00", "22:00"]]
closing = { fade = 30.0, night = "pause" }
opening = { fade = 10.0, start = "restart" }

[[schedule.exception]]
date = "2026-12-24"
hours = []
note = "Christmas Eve"

[[schedule.exception]]
date = 2026-12-31
hours = [["18:00", "26:00"]]
'''


def parse(text: str) -> tuple[Schedule | None, list[str]]:
    source = TomlSource.parse(text, Path("room.toml"))
    checker = Checker(source)
    schedule = parse_schedule(checker, source.data)
    return schedule, [f"{p.line}: {p.key}: {p.reason}" for p in checker.problems]


def local(text: str, zone: ZoneInfo = BERLIN, fold: int = 0) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone, fold=fold)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def week() -> Schedule:
    schedule, problems = parse(WEEK)
    assert not problems and schedule is not None
    return schedule


def test_a_schedule_reads_every_key() -> None:
    schedule = week()
    assert schedule.timezone == "Europe/Berlin"
    assert schedule.week[0] == () and schedule.week[1] == ((600, 1080),)
    assert schedule.week[4] == ((600, 1080), (1200, 1560))
    assert schedule.closing == Closing(30.0, "pause") and schedule.opening == Opening(10.0, "restart")
    assert schedule.exceptions == ((date(2026, 12, 24), ()), (date(2026, 12, 31), ((1080, 1560),)))
    assert schedule.hours_on(date(2026, 12, 24)) == ()  # a Thursday, closed by its exception
    assert schedule.hours_on(date(2026, 12, 17)) == ((600, 1080),)


def test_no_schedule_is_none_and_the_defaults_are_live_nights_and_continuing() -> None:
    assert parse("[venue]\n") == (None, [])
    schedule, problems = parse('[schedule]\ntimezone = "UTC"\n')
    assert problems == [] and schedule is not None
    assert schedule.closing == Closing(30.0, "live") and schedule.opening == Opening(10.0, "continue")
    assert all(day == () for day in schedule.week)


def test_every_problem_is_reported_at_its_line() -> None:
    text = '''[schedule]
timezone = "Europe/Berlinn"
monday = [["10:00", "9:00"]]
tuesday = [["10:00", "14:00"], ["13:00", "18:00"]]
wednesday = [["25:00", "26:00"], ["10:60", "11:00"], ["10", "11:00"], ["10:00"]]
thursday = [["10:00", "48:30"]]
friday = "10-18"
someday = []
closing = { fade = -1, night = "sleep" }
opening = { fade = 10, start = "top", colour = 1 }

[[schedule.exception]]
date = "2026-02-30"
hours = []

[[schedule.exception]]
date = "2026-12-24"

[[schedule.exception]]
date = "2026-12-24"
hours = []
when = 1
'''
    schedule, problems = parse(text)
    assert schedule is not None
    expected = [
        "2: schedule.timezone: 'Europe/Berlinn' is not a time zone",
        "3: schedule.monday[0]: ends (9:00) before it starts (10:00)",
        "4: schedule.tuesday: spans 13:00-18:00 and one ending 14:00 overlap",
        "5: schedule.wednesday[0]: '25:00' is not a time from 00:00 to 23:59",
        "5: schedule.wednesday[1]: '10:60' is not a time",
        "5: schedule.wednesday[2]: must be a time \"HH:MM\", got '10'",
        "5: schedule.wednesday[3]: must be a span",
        "6: schedule.thursday[0]: '48:30' is not a time from 00:00 to 48:00",
        "7: schedule.friday: must be a list of opening spans",
        "8: schedule.someday: unknown key",
        "9: schedule.closing.fade: -1 is outside [0, 3600]",
        "9: schedule.closing.night: 'sleep' is not one of: live, pause",
        "10: schedule.opening.colour: unknown key",
        "10: schedule.opening.start: 'top' is not one of: continue, restart",
        "13: schedule.exception[0].date: must be a date \"YYYY-MM-DD\", got '2026-02-30'",
        "16: schedule.exception[1]: missing hours",
        "22: schedule.exception[2].when: unknown key",
        "20: schedule.exception[2].date: 2026-12-24 already has an exception",
    ]
    for item in expected:
        assert any(problem.startswith(item) for problem in problems), (item, problems)
    assert len(problems) == len(expected), problems
    assert schedule.week[1] == () and schedule.week[0] == ()  # a bad day is closed, never half read


def test_a_venue_file_reads_its_schedule_and_saving_the_mapping_leaves_it_as_written(tmp_path: Path) -> None:
    text = '[venue]\ntitle = "Hall"\n\n[[output]]\nname = "wall"\n\n# the hours, by the gallery\n' + WEEK
    path = tmp_path / "hall.toml"
    venue = parse_venue(TomlSource.parse(text, path))
    assert venue.schedule == week()
    saved = render_venue(venue.with_output(venue.outputs[0]), parse_document(text, path))
    assert saved == text
    moved = render_venue(venue, parse_document(text.replace('title = "Hall"', 'title = "Old"'), path))
    assert moved.split("# the hours, by the gallery\n")[1] == WEEK
    broken = text.replace('"Europe/Berlin"', '"Mars/Olympus"')
    with pytest.raises(LoadError, match=r"hall.toml:10: schedule.timezone: 'Mars/Olympus' is not a time zone"):
        parse_venue(TomlSource.parse(broken, path))


def test_the_state_across_a_week() -> None:
    schedule = week()
    # Monday 2026-03-02 is closed; Tuesday opens 10:00 (09:00 UTC in winter) to 18:00.
    monday = state_at(schedule, local("2026-03-02T12:00"))
    assert not monday.open
    assert monday.since == local("2026-03-01T22:00")  # Sunday's last span closed
    assert monday.next_change == monday.next_open == local("2026-03-03T10:00")
    assert monday.next_close == local("2026-03-03T18:00")
    tuesday = state_at(schedule, local("2026-03-03T10:00"))  # exactly at the opening: open
    assert tuesday.open and tuesday.since == local("2026-03-03T10:00")
    assert tuesday.next_change == tuesday.next_close == local("2026-03-03T18:00")
    assert tuesday.next_open == local("2026-03-04T10:00")
    assert not state_at(schedule, local("2026-03-03T18:00")).open  # closes at its end
    sunday_break = state_at(schedule, local("2026-03-08T14:30"))
    assert not sunday_break.open and sunday_break.since == local("2026-03-08T14:00")
    assert sunday_break.next_change == local("2026-03-08T15:00")
    # any zone of the same instant gives the same answer
    assert state_at(schedule, local("2026-03-03T12:00").astimezone(NEW_YORK)) == state_at(
        schedule, local("2026-03-03T12:00"))
    for hour in range(24 * 7):
        now = local("2026-03-02T00:30") + timedelta(hours=hour)
        state = state_at(schedule, now)
        wall = now.astimezone(BERLIN)
        spans = schedule.week[wall.weekday()]
        previous = schedule.week[(wall.weekday() - 1) % 7]
        minute = wall.hour * 60 + wall.minute
        expected = any(a <= minute < b for a, b in spans) or any(a <= minute + 1440 < b for a, b in previous)
        assert state.open == expected, wall


def test_a_late_opening_past_midnight_and_touching_spans_are_one_opening() -> None:
    schedule = week()
    friday_night = state_at(schedule, local("2026-03-07T01:30"))  # Saturday 01:30: Friday's 20:00-26:00
    assert friday_night.open and friday_night.since == local("2026-03-06T20:00")
    assert friday_night.next_close == local("2026-03-07T02:00")
    saturday, problems = parse('[schedule]\ntimezone = "UTC"\nsaturday = [["10:00", "24:00"]]\n'
                               'sunday = [["00:00", "03:00"]]\nmonday = [["09:00", "12:00"], ["12:00", "13:00"]]\n')
    assert saturday is not None and not problems
    night = state_at(saturday, utc("2026-03-07T23:59"))
    assert night.open and night.next_change == utc("2026-03-08T03:00"), "midnight is no transition"
    lunch = state_at(saturday, utc("2026-03-09T11:00"))
    assert lunch.next_change == utc("2026-03-09T13:00")


def test_exceptions_replace_their_day_and_a_late_new_years_eve() -> None:
    schedule = week()
    christmas = state_at(schedule, local("2026-12-24T12:00"))  # a Thursday, closed
    assert not christmas.open and christmas.next_open == local("2026-12-25T10:00")
    eve = state_at(schedule, local("2027-01-01T01:00"))
    assert eve.open and eve.since == local("2026-12-31T18:00") and eve.next_close == local("2027-01-01T02:00")
    assert not state_at(schedule, local("2026-12-31T12:00")).open, "the exception replaces Thursday's hours"


def test_spring_forward_opens_at_the_first_instant_after_the_gap() -> None:
    # Berlin, 2026-03-29: 02:00 CET becomes 03:00 CEST.
    schedule, _ = parse('[schedule]\ntimezone = "Europe/Berlin"\nsunday = [["02:30", "05:00"]]\n'
                        'saturday = [["22:00", "26:30"]]\n')
    assert schedule is not None
    before = state_at(schedule, utc("2026-03-29T00:45"))  # 01:45 CET: Saturday's span runs on
    assert before.open and before.next_change == utc("2026-03-29T03:00"), "26:30 is 02:30, past the gap: 05:00"
    sunday, _ = parse('[schedule]\ntimezone = "Europe/Berlin"\nsunday = [["02:30", "05:00"]]\n')
    assert sunday is not None
    waiting = state_at(sunday, utc("2026-03-29T00:30"))
    assert not waiting.open and waiting.next_open == utc("2026-03-29T01:00")  # 03:00 CEST
    assert state_at(sunday, utc("2026-03-29T01:00")).open
    assert state_at(sunday, utc("2026-03-29T02:59")).next_close == utc("2026-03-29T03:00")  # 05:00 CEST
    inside, _ = parse('[schedule]\ntimezone = "Europe/Berlin"\nsunday = [["02:10", "02:40"]]\n')
    assert inside is not None
    assert state_at(inside, utc("2026-03-29T00:00")).next_open == utc("2026-04-05T00:10"), "in the gap: never"
    # New York, 2026-03-08: 02:00 EST becomes 03:00 EDT.
    assert resolve_local(datetime(2026, 3, 8, 2, 30), NEW_YORK) == utc("2026-03-08T07:00")
    york, _ = parse('[schedule]\ntimezone = "America/New_York"\nsunday = [["02:15", "04:00"]]\n')
    assert york is not None
    assert state_at(york, utc("2026-03-08T06:59")).next_open == utc("2026-03-08T07:00")
    assert state_at(york, utc("2026-03-08T07:59")).next_close == utc("2026-03-08T08:00")


def test_fall_back_happens_once_in_the_first_occurrence_of_the_repeated_hour() -> None:
    # Berlin, 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:30 happens twice.
    schedule, _ = parse('[schedule]\ntimezone = "Europe/Berlin"\nsaturday = [["20:00", "26:30"]]\n'
                        'sunday = [["02:45", "04:00"]]\n')
    assert schedule is not None
    # (an instant in the repeated hour compares unequal with any other zone's: compare in UTC)
    first = local("2026-10-25T02:30", fold=0).astimezone(UTC)
    second = local("2026-10-25T02:30", fold=1).astimezone(UTC)
    assert second - first == timedelta(hours=1)
    night = state_at(schedule, local("2026-10-25T01:00"))
    assert night.open and night.next_close == first == utc("2026-10-25T00:30")
    opening = state_at(schedule, first)
    assert not opening.open and opening.next_open == local("2026-10-25T02:45", fold=0).astimezone(UTC)
    again = state_at(schedule, second)  # the repeated 02:30: still open from 02:45 (first), no second close
    assert again.open and again.since == local("2026-10-25T02:45", fold=0).astimezone(UTC)
    assert again.next_close == local("2026-10-25T04:00") == utc("2026-10-25T03:00")
    york, _ = parse('[schedule]\ntimezone = "America/New_York"\nsunday = [["01:30", "09:00"]]\n')
    assert york is not None  # 2026-11-01: 01:30 EDT (05:30 UTC) opens, and 01:30 EST opens nothing again
    assert state_at(york, utc("2026-11-01T05:29")).next_open == utc("2026-11-01T05:30")
    repeated = state_at(york, utc("2026-11-01T06:30"))
    assert repeated.open and repeated.since == utc("2026-11-01T05:30")
    assert repeated.next_close == utc("2026-11-01T14:00")


def test_never_open_and_always_open_have_no_change_to_show() -> None:
    never, _ = parse('[schedule]\ntimezone = "UTC"\n')
    assert never is not None
    assert state_at(never, utc("2026-06-01T12:00")) == state_at(never, utc("2026-06-01T12:00"))
    state = state_at(never, utc("2026-06-01T12:00"))
    assert (state.open, state.since, state.next_change, state.next_open, state.next_close) == (
        False, None, None, None, None)
    days = "\n".join(f'{day} = [["00:00", "24:00"]]' for day in
                     ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
    always, _ = parse(f'[schedule]\ntimezone = "UTC"\n{days}\n')
    assert always is not None
    state = state_at(always, utc("2026-06-01T12:00"))
    assert state.open and state.since is None and state.next_change is None
    assert parse('[schedule]\ntimezone = ""\n')[1] == [
        "2: schedule.timezone: must name a time zone (an IANA name like 'Europe/Berlin')"]
    assert parse('[schedule]\n')[1] == ["1: schedule.timezone: missing"]
    with pytest.raises(ValueError, match="aware"):
        state_at(always, datetime(2026, 6, 1, 12))
