"""Quantised launch through the engine (an act change asked for on the next bar lands on it), and
the tempo in the status document."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from installation.app.compose import build_runtime
from installation.app.options import RunOptions
from installation.core.commands import Command
from installation.core.events import CommandInput, Event, EventKind, ParamInput
from installation.core.tempo import waits
from installation.engine import Engine
from installation.registry import build_bank


class StepClock:
    """The engine's clock, moved one step per step as the runtime's real-time loop does."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def engine_at(bpm: float, beats_per_bar: int = 4) -> tuple[Engine, StepClock]:
    engine = Engine.for_show("kai-festival", bank=build_bank())
    clock = StepClock(100.0)
    engine.clock = clock
    engine.bank.set_many({"tempo.bpm": bpm, "tempo.beats_per_bar": beats_per_bar}, "ui", immediate=True)
    engine.step()
    engine.tempo.locate(100.0, 0.0)  # the beat's zero, as a MIDI start puts it
    return engine, clock


def run_until(engine: Engine, clock: StepClock, done: Callable[[], bool], limit: int = 600) -> float:
    """Step (the clock advancing a step each time) until ``done()``; returns the step's time."""
    for _ in range(limit):
        clock.t += engine.dt
        engine.step()
        if done():
            return clock.t
    raise AssertionError("it never happened")


@pytest.mark.parametrize(("bpm", "at", "size"), [(133.0, "bar", 4), (120.0, "beat", 1), (97.0, "bar", 3)])
def test_a_quantised_act_change_lands_within_half_a_step_of_the_line(bpm: float, at: str, size: int) -> None:
    engine, clock = engine_at(bpm, beats_per_bar=3 if size == 3 else 4)
    clock.t += 0.37  # somewhere inside a bar
    engine.step()
    asked = clock.t
    engine.inputs.put(CommandInput(Command.NEXT_ACT, source="midi", at=at))
    act = engine.player.act_index
    landed = run_until(engine, clock, lambda: engine.player.act_index != act)
    # the line, computed here from the tempo's zero (the first step) and the BPM alone
    beat_s = 60.0 / bpm
    beats_asked = (asked - 100.0) / beat_s
    line = 100.0 + (int(beats_asked // size) + 1) * size * beat_s
    assert abs(landed - line) <= engine.dt / 2 + 1e-9, (landed, line)
    assert landed > asked


def test_the_default_quantum_holds_performers_events_but_never_the_show() -> None:
    engine, clock = engine_at(120.0)
    engine.bank.set("tempo.quantize", "bar", "ui", immediate=True)
    clock.t += 0.1
    engine.step()
    engine.inputs.put(Event(EventKind.SURGE, source="osc"))
    engine.inputs.put(CommandInput(Command.NEXT_ACT, source="show", at=""))  # not a performer: at once
    act = engine.player.act_index
    clock.t += engine.dt
    engine.step()
    assert engine.player.act_index != act
    assert [item for _, item in engine.launches.waiting] == [Event(EventKind.SURGE, source="osc")]
    released = run_until(engine, clock, lambda: not engine.launches.waiting)
    assert abs(released - 102.0) <= engine.dt / 2 + 1e-9  # the bar line at 120 BPM: two seconds in


def test_a_bad_launch_option_is_refused_where_it_arrives() -> None:
    with pytest.raises(ValueError, match="'soon' is not one of: now, beat, bar"):
        CommandInput(Command.NEXT_ACT, at="soon")


def test_status_shows_tempo_source_beat_and_bar() -> None:
    runtime = build_runtime(RunOptions(audio=False, status=None)).start()
    try:
        engine = runtime.engine
        engine.inputs.put(ParamInput("tempo.bpm", 20.0, "osc"))  # three seconds a beat: the bar below holds
        engine.advance(2 * engine.dt)  # the step that takes it, and the next, where the tempo follows
        engine.tempo.locate(time.monotonic(), 9.5)  # beat 9.5: the third bar's second beat, half-way
        tempo = runtime.publish_status()["tempo"]
    finally:
        runtime.stop()
    assert {key: tempo[key] for key in ("bpm", "source", "follow", "running", "beats_per_bar", "bar", "beat_in_bar")} \
        == {"bpm": 20.0, "source": "internal", "follow": "auto", "running": True, "beats_per_bar": 4, "bar": 3,
            "beat_in_bar": 2}
    assert 9.5 <= tempo["beat"] < 10.0


def test_a_performers_event_waiting_for_the_bar_takes_no_short_path() -> None:
    bank = build_bank()
    surge = Event(EventKind.SURGE, source="midi")
    assert not waits(surge, bank)  # tempo.quantize "now": the note sounds at once
    bank.set("tempo.quantize", "bar", "ui", immediate=True)
    assert waits(surge, bank)
    assert not waits(Event(EventKind.SPIKE, source="midi"), bank)  # not a story event
    assert not waits(CommandInput(Command.BLACKOUT, source="midi"), bank)  # not a launch
