"""The venue's [[projector]] tables (pure): defaults, every mistake at its key, and when each
projector should be on around the opening hours (:func:`wanted_power`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from installation.core.errors import LoadError
from installation.core.projectors import ProjectorSpec, parse_projectors, wanted_power
from installation.core.tomlsource import Checker, TomlSource
from installation.core.venue import SECTIONS, Venue, parse_venue

pytestmark = pytest.mark.core

OUTPUTS = """
[venue]
title = "Test room"

[[output]]
name = "left"

[[output]]
name = "right"
"""


def venue_of(text: str, tmp_path: Path) -> Venue:
    return parse_venue(TomlSource.parse(OUTPUTS + text, tmp_path / "room.toml"))


def problems(text: str, tmp_path: Path) -> list[str]:
    with pytest.raises(LoadError) as raised:
        venue_of(text, tmp_path)
    return [f"{p.line}: {p.key}: {p.reason}" for p in raised.value.problems]


def test_the_loader_has_a_projector_section() -> None:
    assert "projector" in SECTIONS


def test_a_projector_with_only_a_host_gets_the_defaults(tmp_path: Path) -> None:
    venue = venue_of('[[projector]]\nname = "left"\nhost = "192.168.1.50"\n', tmp_path)
    assert venue.projectors == (ProjectorSpec("left", "192.168.1.50"),)
    spec = venue.projectors[0]
    assert (spec.port, spec.password, spec.input, spec.lead_s, spec.off_after_s, spec.output) == (
        4352, "", "", 120.0, 60.0, None)


def test_every_key_is_read(tmp_path: Path) -> None:
    venue = venue_of("""
[[projector]]
name = "left"
host = "pj-left.local"
port = 4353
password = "JBMIAProjectorLink"
input = "3a"
lead = 300
off_after = 30.5
output = "left"

[[projector]]
name = "right"
host = "192.168.1.51"
input = 31
""", tmp_path)
    assert venue.projectors == (
        ProjectorSpec("left", "pj-left.local", 4353, "JBMIAProjectorLink", "3A", 300.0, 30.5, "left"),
        ProjectorSpec("right", "192.168.1.51", input="31"),
    )


def test_a_venue_without_projectors_has_none(tmp_path: Path) -> None:
    assert venue_of("", tmp_path).projectors == ()


def test_every_mistake_is_reported_at_its_line_and_key(tmp_path: Path) -> None:
    found = problems("""
[[projector]]
name = "left"
port = 70000
password = "ü"
input = "71"
lead = -1
off_after = "soon"
output = "middle"
colour = "red"

[[projector]]
name = "left"
host = "bad host!"

[[projector]]
name = "third"
host = "10.0.0.9"

[[projector]]
name = "fourth"
host = "10.0.0.9"
""", tmp_path)
    base = OUTPUTS.count("\n")
    expected = [
        f"{base + 10}: projector[0].colour: unknown key",
        f"{base + 2}: projector[0].host: missing",
        f"{base + 4}: projector[0].port: 70000 is outside [1, 65535]",
        f"{base + 5}: projector[0].password: PJLink passwords are at most 32 printable ASCII",
        f"{base + 6}: projector[0].input: must be a PJLink input code",
        f"{base + 7}: projector[0].lead: -1 is outside",
        f"{base + 8}: projector[0].off_after: must be a number",
        f"{base + 9}: projector[0].output: no [[output]] is called 'middle' (outputs: left, right)",
        f"{base + 14}: projector[1].host: must be a host name or an IP address",
        f"{base + 13}: projector[1].name: another projector is already called 'left'",
        f"{base + 22}: projector[3].host: projector 'third' already answers at 10.0.0.9:4352",
    ]
    assert len(found) == len(expected), found
    for want in expected:
        assert any(problem.startswith(want) for problem in found), (want, found)


def test_projector_must_be_an_array_of_tables(tmp_path: Path) -> None:
    assert problems('[projector]\nhost = "x"\n', tmp_path) == [
        f"{OUTPUTS.count(chr(10)) + 1}: projector: must be an array of tables ([[projector]])"]


def test_parse_projectors_alone_does_not_check_outputs(tmp_path: Path) -> None:
    source = TomlSource.parse('[[projector]]\nhost = "h"\noutput = "anything"\n', tmp_path / "p.toml")
    checker = Checker(source)
    assert parse_projectors(checker, source.data) == (ProjectorSpec("projector 1", "h", output="anything"),)
    assert checker.problems == []


# -- when to power ----------------------------------------------------------------------------

@dataclass(frozen=True)
class State:
    """The parts of installation.core.schedule.ScheduleState that wanted_power reads."""

    open: bool
    since: datetime | None = None
    next_open: datetime | None = None


OPENS = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
CLOSES = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)


def at(offset_s: float, base: datetime = OPENS) -> datetime:
    return base + timedelta(seconds=offset_s)


def test_without_a_schedule_a_projector_is_always_on() -> None:
    assert wanted_power(None, OPENS, 120.0, 60.0)


@pytest.mark.parametrize(("offset_s", "on"), [(-3600, False), (-121, False), (-120, True), (-1, True)])
def test_on_from_the_lead_time_before_opening(offset_s: float, on: bool) -> None:
    closed = State(open=False, since=OPENS - timedelta(hours=16), next_open=OPENS)
    assert wanted_power(closed, at(offset_s), 120.0, 60.0) is on


def test_on_while_open() -> None:
    assert wanted_power(State(open=True, since=OPENS), at(3600), 120.0, 60.0)


@pytest.mark.parametrize(("offset_s", "on"), [(0, True), (59.9, True), (60, False), (3600, False)])
def test_off_once_closed_for_off_after(offset_s: float, on: bool) -> None:
    closed = State(open=False, since=CLOSES, next_open=OPENS + timedelta(days=1))
    assert wanted_power(closed, at(offset_s, CLOSES), 120.0, 60.0) is on


def test_a_short_break_shorter_than_lead_and_off_after_keeps_it_on() -> None:
    # closed at 13:00, opens again at 13:02: the off_after and the lead overlap
    closed = State(open=False, since=at(3 * 3600), next_open=at(3 * 3600 + 120))
    for offset in (0, 30, 60, 90, 119):
        assert wanted_power(closed, at(3 * 3600 + offset), 120.0, 60.0)


def test_never_opening_again_stays_off() -> None:
    assert not wanted_power(State(open=False, since=None, next_open=None), OPENS, 120.0, 60.0)
    assert not wanted_power(State(open=False, since=CLOSES, next_open=None), at(61, CLOSES), 120.0, 60.0)
