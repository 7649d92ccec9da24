"""The keeper of the opening hours on an injected clock, and what the engine does at a change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from installation.core.commands import Command
from installation.core.events import CommandInput
from installation.core.opening import OpeningHours, Transition
from installation.core.schedule import Schedule, parse_schedule
from installation.core.tomlsource import Checker, TomlSource
from installation.engine import Engine
from installation.registry import build_bank

pytestmark = pytest.mark.core

# Open 10:00-18:00 UTC every day but Monday.
HOURS = '''[schedule]
timezone = "UTC"
{days}
closing = {{ fade = {close}, night = "{night}" }}
opening = {{ fade = {open}, start = "{start}" }}
'''


def schedule(night: str = "live", start: str = "continue", close: float = 30.0, opening: float = 10.0) -> Schedule:
    days = "\n".join(f'{day} = [["10:00", "18:00"]]' for day in
                     ("tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
    text = HOURS.format(days=days, close=close, night=night, open=opening, start=start)
    source = TomlSource.parse(text, Path("room.toml"))
    checker = Checker(source)
    parsed = parse_schedule(checker, source.data)
    assert not checker.problems and parsed is not None
    return parsed


class Clock:
    def __init__(self, start: str) -> None:
        self.now = at(start)

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: str) -> None:
        self.now = at(moment)

    def forward(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=UTC)


def test_a_transition_applies_once() -> None:
    clock = Clock("2026-03-03T09:59:00")  # a Tuesday
    hours = OpeningHours(schedule(), clock)
    first = hours.update()
    assert first == Transition(False, at("2026-03-01T18:00"), 0.0), "started at night: dark at once, no fade"
    assert hours.update() is None
    clock.forward(seconds=59)
    assert hours.update() is None
    clock.forward(seconds=1)
    assert hours.update() == Transition(True, at("2026-03-03T10:00"), 10.0)
    for _ in range(5):
        clock.forward(seconds=1 / 60)
        assert hours.update() is None
    clock.set("2026-03-03T18:00:00")
    assert hours.update() == Transition(False, at("2026-03-03T18:00"), 30.0)
    assert hours.update() is None and not hours.open


def test_a_forward_jump_over_a_closed_night_applies_only_the_end_state() -> None:
    clock = Clock("2026-03-03T17:00")
    hours = OpeningHours(schedule(start="restart"), clock)
    assert hours.update() is None  # open, as the engine starts
    clock.set("2026-03-04T11:00")  # over the close at 18:00 and the opening at 10:00
    assert hours.update() is None, "open then and open now: nothing to do, no restart"
    clock.set("2026-03-06T03:00")  # over two nights and a day
    assert hours.update() == Transition(False, at("2026-03-05T18:00"), 30.0)
    clock.set("2026-03-08T12:00")
    change = hours.update()
    assert change is not None and change.open and change.restart and change.at == at("2026-03-08T10:00")
    assert hours.update() is None


def test_a_backward_jump_repeats_nothing() -> None:
    clock = Clock("2026-03-03T17:59:59")
    hours = OpeningHours(schedule(), clock)
    hours.update()
    clock.set("2026-03-03T18:00:01")
    assert hours.update() is not None and not hours.open
    clock.set("2026-03-03T17:30")  # NTP sets the clock back half an hour
    assert hours.update() is None, "no reopening"
    clock.set("2026-03-03T18:00:30")
    assert hours.update() is None, "and no second closing"
    assert not hours.open
    clock.set("2026-03-03T11:00")  # set back further, still under a day: held
    assert hours.update() is None and not hours.open
    clock.set("2026-03-01T11:00")  # more than a day back: a fresh start, applied once
    assert hours.update() == Transition(True, at("2026-03-01T10:00"), 10.0)
    assert hours.update() is None


def test_open_now_and_close_now_last_until_the_next_change() -> None:
    clock = Clock("2026-03-03T12:00")
    hours = OpeningHours(schedule(), clock)
    assert hours.update() is None
    closed = hours.close_now()
    assert closed == Transition(False, at("2026-03-03T12:00"), 30.0, manual=True)
    assert hours.status()["override"] is True
    assert hours.status()["next_change"] == "2026-03-04T10:00:00+00:00", "18:00 closes what is closed"
    clock.set("2026-03-03T17:00")
    assert hours.update() is None and not hours.open
    clock.set("2026-03-03T18:30")
    assert hours.update() is None and not hours.override, "the close ran into the scheduled one"
    opened = hours.open_now()
    assert opened is not None and opened.open and opened.manual
    clock.set("2026-03-04T09:00")
    assert hours.update() is None and hours.open, "open through the night, until the next change"
    clock.set("2026-03-04T18:00")
    assert hours.update() == Transition(False, at("2026-03-04T18:00"), 30.0)
    assert hours.close_now() is None and not hours.override, "closing what the schedule closes: no override"
    hours.open_now()
    assert hours.close_now() is not None and not hours.override, "back to the schedule"


def test_without_a_schedule_it_is_always_open_and_a_manual_close_lasts_until_open_now() -> None:
    def no_clock() -> datetime:
        raise AssertionError("the clock is not read without a schedule")

    hours = OpeningHours(None, no_clock)
    assert hours.update() is None and hours.status() == {"open": True, "always": True}
    hours = OpeningHours(None, Clock("2026-03-03T12:00"))
    assert hours.close_now() == Transition(False, at("2026-03-03T12:00"), 30.0, manual=True)
    assert hours.update() is None and hours.status()["open"] is False and hours.status()["next_change"] is None
    assert hours.open_now() is not None and hours.status() == {"open": True, "always": True}


def test_status_shows_the_state_since_and_the_next_change() -> None:
    clock = Clock("2026-03-03T12:00")
    hours = OpeningHours(schedule(), clock)
    hours.update()
    assert hours.status() == {"open": True, "since": None, "next_change": "2026-03-03T18:00:00+00:00",
                              "next_change_in_s": 21600.0, "next_state": "closed", "override": False,
                              "timezone": "UTC"}
    clock.set("2026-03-03T19:00")
    hours.update()
    status = hours.status()
    assert (status["open"], status["since"], status["next_change"], status["next_state"]) == (
        False, "2026-03-03T18:00:00+00:00", "2026-03-04T10:00:00+00:00", "open")


# -- the engine -------------------------------------------------------------------------------

def engine_with(hours: OpeningHours) -> Engine:
    engine = Engine.for_show("kai-festival", bank=build_bank())
    engine.hours = hours
    return engine


def test_closing_fades_to_black_and_silence_over_the_fade_and_opening_fades_back() -> None:
    clock = Clock("2026-03-03T17:59:59")
    engine = engine_with(OpeningHours(schedule(close=4.0, opening=2.0), clock))
    engine.advance(0.5)
    assert engine.bank.number("render.blackout") == 0.0 and engine.bank.number("synth.open_level") == 1.0
    clock.set("2026-03-03T18:00")
    engine.advance(2.0)
    assert engine.bank.number("render.blackout") == pytest.approx(0.5, abs=0.02), "halfway through a 4 s fade"
    assert engine.bank.number("synth.open_level") == pytest.approx(0.5, abs=0.02)
    assert engine.bank.target("render.blackout") == 1.0 and engine.bank.source("render.blackout") == "hours"
    engine.advance(2.1)
    assert engine.bank.number("render.blackout") == 1.0 and engine.bank.number("synth.open_level") == 0.0
    assert engine.bank.get("show.paused") is False, "the organism lives on at night"
    engine.inputs.put(CommandInput(Command.NEXT_ACT, source="ui"))
    engine.advance(2.0)
    assert engine.bank.number("synth.open_level") == 0.0, "an act change keeps the silence"
    clock.set("2026-03-04T10:00")
    engine.advance(1.0)
    assert engine.bank.number("render.blackout") == pytest.approx(0.5, abs=0.02)
    engine.advance(1.1)
    assert engine.bank.number("render.blackout") == 0.0 and engine.bank.number("synth.open_level") == 1.0
    assert engine.player.act_index == 1, "the show continues"


def test_a_pausing_night_holds_the_show_and_a_restarting_opening_goes_back_to_the_first_act() -> None:
    clock = Clock("2026-03-03T17:59:59")
    engine = engine_with(OpeningHours(schedule(night="pause", start="restart", close=1.0, opening=1.0), clock))
    engine.inputs.put(CommandInput(Command.JUMP_ACT, "2", source="ui"))
    engine.advance(0.5)
    assert engine.player.act_index == 2
    clock.set("2026-03-03T18:00")
    engine.advance(1.0)
    position = engine.player.position_s
    engine.advance(1.0)
    assert engine.bank.get("show.paused") is True and engine.player.position_s == position
    clock.set("2026-03-04T10:00")
    engine.advance(1.0)
    assert engine.bank.get("show.paused") is False and engine.player.act_index == 0
    assert engine.player.position_s > 0.0


def test_open_now_and_close_now_reach_the_engine_as_commands() -> None:
    clock = Clock("2026-03-03T12:00")
    engine = engine_with(OpeningHours(schedule(close=0.5, opening=0.5), clock))
    engine.inputs.put(CommandInput(Command.CLOSE_NOW, source="osc"))
    engine.advance(1.0)
    assert engine.bank.number("render.blackout") == 1.0 and not engine.hours.open and engine.hours.override
    engine.inputs.put(CommandInput(Command.OPEN_NOW, source="ui"))
    engine.advance(1.0)
    assert engine.bank.number("render.blackout") == 0.0 and engine.hours.open and not engine.hours.override
    plain = Engine.for_show("kai-festival", bank=build_bank())  # no schedule: open, closable by hand
    plain.inputs.put(CommandInput(Command.CLOSE_NOW, source="midi"))
    plain.advance(31.0)
    assert plain.bank.number("synth.open_level") == 0.0 and not plain.errors
