"""Projectors over PJLink, against emulated projectors on 127.0.0.1 (tests/pjlink_emulator.py):
powered on by the lead time before opening and off after closing (an injected clock and
schedule), the input selected once on, lamp hours and errors in /status and /metrics; one that
refuses (a wrong password), one that hangs (the poll ends within its timeout and the show's
thread never waits), one with a lamp error, and one that comes back is reachable again."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from installation.app.compose import build_engine
from installation.app.metrics import to_prometheus
from installation.app.options import RunOptions
from installation.app.projectors import Projectors
from installation.app.runtime import Runtime
from installation.core.projectors import ProjectorSpec
from installation.core.schedule import ScheduleState
from installation.core.tomlsource import TomlSource
from installation.core.venue import parse_venue
from tests.pjlink_emulator import PJLinkEmulator, ProjectorModel, free_port
from tests.waiting import wait_for

FAST = {"poll_s": 0.1, "timeout_s": 0.4, "retry_s": 0.1, "max_retry_s": 0.4, "resend_s": 30.0}
OPENS = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
CLOSES = datetime(2026, 3, 3, 18, 0, tzinfo=UTC)


class Clock:
    """The wall clock the adapter reads the schedule at; the test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Hours:
    """A day open 10:00-18:00 (UTC), as installation.core.schedule.state_at would say it."""

    def __call__(self, now: datetime) -> ScheduleState:
        if now < OPENS:
            return ScheduleState(False, OPENS - timedelta(hours=16), OPENS, OPENS, CLOSES)
        if now < CLOSES:
            return ScheduleState(True, OPENS, CLOSES, OPENS + timedelta(days=1), CLOSES)
        return ScheduleState(False, CLOSES, OPENS + timedelta(days=1), OPENS + timedelta(days=1),
                             CLOSES + timedelta(days=1))


def spec_for(emulator: PJLinkEmulator | None, name: str = "left", port: int = 0, **keys: object) -> ProjectorSpec:
    return ProjectorSpec(name, "127.0.0.1", emulator.port if emulator else port, **keys)  # type: ignore[arg-type]


@pytest.fixture
def emulator() -> Iterator[PJLinkEmulator]:
    with PJLinkEmulator(ProjectorModel(warm_s=0.3, cool_s=0.3)) as running:
        yield running


def entry(projectors: Projectors, name: str = "left") -> dict[str, object]:
    return next(e for e in projectors.status() if e["name"] == name)


def settled(projectors: Projectors, name: str = "left", polls: int = 2) -> dict[str, object]:
    """The status after ``polls`` more polls have finished."""
    target = projectors.polls(name) + polls
    projectors.poke()
    wait_for(lambda: projectors.polls(name) >= target, 10, f"{polls} polls of {name}")
    return entry(projectors, name)


def test_power_follows_the_hours_with_lead_and_off_after_and_the_input_is_selected(
        emulator: PJLinkEmulator) -> None:
    clock = Clock(OPENS - timedelta(hours=1))
    spec = spec_for(emulator, input="31", lead_s=120.0, off_after_s=60.0)
    projectors = Projectors(lambda: [spec], Hours(), clock, **FAST).start()  # type: ignore[arg-type]
    try:
        state = settled(projectors)
        assert state["reachable"] and state["power"] == "off" and state["wanted"] == "off"
        clock.now = OPENS - timedelta(seconds=121)  # a second before the lead time
        assert settled(projectors)["power"] == "off" and emulator.commands("POWR 1") == []

        clock.now = OPENS - timedelta(seconds=120)  # the lead time: on, warming, then on with its input
        projectors.poke()
        wait_for(lambda: entry(projectors)["power"] == "warming", 10, "warming")
        wait_for(lambda: entry(projectors)["power"] == "on" and emulator.model.input == "31", 10, "on at input 31")
        settled(projectors, polls=3)
        assert emulator.commands("POWR 1") == ["POWR 1"]  # once: not sent again while warming or on
        assert emulator.commands("INPT 31") == ["INPT 31"]  # once, after warming (ERR3 before)

        clock.now = CLOSES + timedelta(seconds=59)  # closed, within off_after: still on
        state = settled(projectors)
        assert state["power"] == "on" and state["wanted"] == "on" and emulator.commands("POWR 0") == []
        clock.now = CLOSES + timedelta(seconds=60)
        projectors.poke()
        wait_for(lambda: entry(projectors)["power"] == "off", 10, "off after closing")
        settled(projectors, polls=3)
        assert emulator.commands("POWR 0") == ["POWR 0"] and entry(projectors)["wanted"] == "off"
    finally:
        projectors.stop()


def test_lamp_hours_and_a_lamp_error_reach_status_and_metrics_once_in_the_log(
        caplog: pytest.LogCaptureFixture) -> None:
    with PJLinkEmulator(ProjectorModel(power="1", lamp_hours=20417, errors="020100")) as broken, \
            PJLinkEmulator(ProjectorModel(power="1", lamp=False)) as laser:
        specs = [spec_for(broken, "lamp"), spec_for(laser, "laser")]
        caplog.set_level(logging.INFO, "installation")
        projectors = Projectors(lambda: specs, clock=Clock(OPENS), **FAST).start()  # type: ignore[arg-type]
        try:
            settled(projectors, "laser")
            state = settled(projectors, "lamp", polls=4)
            assert state["lamp_hours"] == 20417 and state["power"] == "on" and state["reachable"]
            assert state["errors"] == {"fan": "ok", "lamp": "error", "temperature": "ok", "cover": "warning",
                                       "filter": "ok", "other": "ok"}
            assert entry(projectors, "laser")["lamp_hours"] is None  # no lamp to count
            reports = [r for r in caplog.records if "reports" in r.getMessage()]
            assert [r.getMessage() for r in reports] == ["projector lamp reports cover warning, lamp error"]
            assert reports[0].levelno == logging.WARNING
            metrics = to_prometheus({"projectors": projectors.status()})
        finally:
            projectors.stop()
    assert 'myco_projector_up{name="lamp"} 1' in metrics
    assert 'myco_projector_power_on{name="lamp"} 1' in metrics
    assert 'myco_projector_lamp_hours{name="lamp"} 20417' in metrics
    assert 'myco_projector_lamp_hours{name="laser"}' not in metrics
    assert 'myco_projector_error{name="lamp",part="lamp"} 2' in metrics
    assert 'myco_projector_error{name="lamp",part="cover"} 1' in metrics
    assert 'myco_projector_error{name="laser",part="fan"} 0' in metrics


def test_a_wrong_password_is_refused_reported_once_and_retried(caplog: pytest.LogCaptureFixture) -> None:
    with PJLinkEmulator(ProjectorModel(password="JBMIAProjectorLink", power="1")) as guarded:
        right = spec_for(guarded, "right", password="JBMIAProjectorLink")
        wrong = spec_for(guarded, "wrong", password="guess")
        caplog.set_level(logging.WARNING, "installation")
        projectors = Projectors(lambda: [right, wrong], clock=Clock(OPENS), **FAST).start()  # type: ignore[arg-type]
        try:
            assert settled(projectors, "right")["reachable"]
            state = settled(projectors, "wrong", polls=4)
            assert not state["reachable"] and state["power"] == "unknown"
            assert str(state["last_error"]).startswith("refused: authentication failed")
            assert guarded.refused >= 4  # retried
            warnings = [r.getMessage() for r in caplog.records if "wrong" in r.getMessage()]
            assert len(warnings) == 1 and "does not answer: refused" in warnings[0]
            assert 'myco_projector_up{name="wrong"} 0' in to_prometheus({"projectors": projectors.status()})
        finally:
            projectors.stop()


def test_a_hanging_projector_times_out_never_holds_the_caller_and_comes_back(
        caplog: pytest.LogCaptureFixture) -> None:
    with PJLinkEmulator(ProjectorModel(power="1", hang=True)) as hanging:
        caplog.set_level(logging.INFO, "installation")
        projectors = Projectors(lambda: [spec_for(hanging)], clock=Clock(OPENS), **FAST).start()  # type: ignore[arg-type]
        try:
            wait_for(lambda: hanging.connections >= 1, 10, "a connection to the hanging projector")
            started = time.monotonic()
            wait_for(lambda: projectors.polls("left") >= 1, 10, "the first poll to end")
            assert time.monotonic() - started < FAST["timeout_s"] + 0.3  # the poll ends within its timeout
            state = entry(projectors)
            assert not state["reachable"] and str(state["last_error"]).startswith("timed out")
            # while it hangs, the show's calls never wait on it
            worst = 0.0
            for _ in range(200):
                began = time.perf_counter()
                projectors.status()
                projectors.poke()
                worst = max(worst, time.perf_counter() - began)
            assert worst < 0.05, worst
            wait_for(lambda: hanging.connections >= 2, 10, "a retry")

            hanging.model.hang = False  # it answers again
            wait_for(lambda: entry(projectors)["reachable"], 10, "reachable again")
            assert entry(projectors)["last_error"] == "" and entry(projectors)["power"] == "on"
            messages = [r.getMessage() for r in caplog.records]
            assert sum("does not answer" in m for m in messages) == 1
            assert any("answers again" in m for m in messages)
        finally:
            began = time.perf_counter()
            projectors.stop()
            assert time.perf_counter() - began < 2.0


def test_a_projector_switched_off_at_the_wall_is_unreachable_until_it_is_back() -> None:
    port = free_port()
    projectors = Projectors(lambda: [spec_for(None, port=port)], clock=Clock(OPENS), **FAST).start()
    try:
        state = settled(projectors)
        assert not state["reachable"] and state["power"] == "unknown"
        assert str(state["last_error"]).startswith("no connection: [Errno 111]"), state["last_error"]
        with PJLinkEmulator(ProjectorModel(power="0"), port=port) as back:
            wait_for(lambda: entry(projectors)["reachable"], 10, "reachable once it listens")
            # wanted on (no schedule), reported off: powered on
            wait_for(lambda: back.model.power in ("1", "3"), 10, "powered on")
            projectors.stop()
    finally:
        projectors.stop()


def test_the_runtime_starts_them_from_the_venue_and_shows_them_in_status(tmp_path: Path) -> None:
    with PJLinkEmulator(ProjectorModel(power="0", lamp_hours=42)) as pj:
        text = f"""
[venue]
title = "Room"

[[output]]
name = "left"

[schedule]
timezone = "UTC"
tuesday = [["10:00", "18:00"]]

[[projector]]
name = "left"
host = "127.0.0.1"
port = {pj.port}
input = "32"
lead = 120
output = "left"
"""
        venue = parse_venue(TomlSource.parse(text, tmp_path / "room.toml"))
        runtime = Runtime(RunOptions(audio=False, status=None), build_engine(RunOptions(audio=False, status=None)),
                          venue)
        runtime.projector_clock = lambda: OPENS - timedelta(seconds=119)  # Tuesday, within the lead
        runtime.start()
        try:
            projectors = runtime.part("projectors")
            assert projectors is not None and "projectors" not in runtime.input_counters()
            wait_for(lambda: pj.model.input == "32", 10, "powered on at input 32 by the lead time")
            wait_for(lambda: runtime.publish_status()["projectors"][0]["power"] == "on", 10, "on in /status")
            status = runtime.publish_status()
            [shown] = status["projectors"]
            assert {key: shown[key] for key in ("name", "host", "power", "lamp_hours", "reachable", "wanted",
                                                "output")} == {
                "name": "left", "host": "127.0.0.1", "power": "on", "lamp_hours": 42, "reachable": True,
                "wanted": "on", "output": "left"}
            assert shown["errors"]["lamp"] == "ok" and shown["last_error"] == ""
            assert 'myco_projector_power_on{name="left"} 1' in to_prometheus(status)

            # the venue re-read with the projector renamed: followed without a restart
            runtime.venue = replace(venue, projectors=(replace(venue.projectors[0], name="main"),))
            projectors.poke()
            wait_for(lambda: [p["name"] for p in runtime.publish_status()["projectors"]] == ["main"], 10,
                     "the renamed projector")
        finally:
            runtime.stop()
