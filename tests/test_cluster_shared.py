"""What a cluster shares besides the inputs, measured on members without renderers (issue 18).

Three real runtimes (engine, kernel, cluster member) in this process, over a real mosquitto, each
with its own user folder (its own copy of the presets), ticked in turn as their headless loops
would: the leader's tempo as a tap and MIDI clock set it, its room's sound and a preset file
edited on its side during the show reach every member at the same step. Every engine step of
every member is recorded (its beat, tempo, the room the modulator read, every parameter value),
and the members' records are compared step by step: equal at every step both ran, from the
follower's first step and the joiner's first after its snapshot.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from installation.app.compose import build_runtime
from installation.app.options import RunOptions
from installation.app.runtime import Runtime
from installation.core.modulation import Modulator, SourceKind
from installation.core.paths import UserDirs
from installation.core.presets import PresetLibrary, load_preset
from installation.core.tempo import Source
from tests.services import start_mosquitto, stop

VENUE = """[venue]
title = "Three machines, no pictures"

[[output]]
name = "wall"

[cluster]
broker = "mqtt://127.0.0.1:{port}"
namespace = "myco/shared-{port}"

[[cluster.member]]
name = "one"
role = "leader"
priority = 1

[[cluster.member]]
name = "two"
priority = 2

[[cluster.member]]
name = "three"
priority = 3
"""
PRESET = "kai-1-living-city"  # the first act's (90 s: the test stays in it)
WARMTH = "shader.festival.warmth"  # a parameter of it the edit changes
EDIT = """
[[modulation]]
source = "room.level"
target = "render.exposure"
depth = 0.5

[[modulation]]
source = "lfo"
shape = "sine"
rate = 1
unit = "beats"
target = "render.saturation"
depth = 0.3
bipolar = true
"""
Record = tuple[float, float, str, bool, float, dict[str, Any]]


def member(name: str, venue: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Runtime, dict[int, Record]]:
    """A started member with its own user folder holding a copy of the shipped preset, and the
    record of each engine step it runs (filled as it steps)."""
    monkeypatch.setenv("MYCO_HOME", str(home / name))
    user = UserDirs.default().ensure()
    (user.presets / f"{PRESET}.toml").write_text(PresetLibrary(user).path(PRESET).read_text())
    runtime = build_runtime(RunOptions(audio=False, status=None, headless=True, visuals=False, venue=str(venue),
                                       member=name))
    engine = runtime.engine
    records: dict[int, Record] = {}
    step = engine.step

    def recorded() -> Any:
        frame = step()
        tempo = engine.tempo
        records[engine.step_count - 1] = (tempo.beat_at(engine.now), tempo.bpm, str(tempo.source), tempo.running,
                                          room_read(engine.modulation), engine.bank.snapshot())
        return frame

    engine.step = recorded  # type: ignore[method-assign]
    return runtime.start(), records


def room_read(modulator: Modulator) -> float:
    """What the room.* source read at the step (-1 without one)."""
    return next((value for source, value in modulator.values.items() if source.kind is SourceKind.ROOM), -1.0)


def run(members: list[Runtime], seconds: float, during: Any = None) -> None:
    """Tick every member in turn, as their loops would, for ``seconds``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for runtime in members:
            if runtime.tick() and runtime.cluster is not None:
                runtime.cluster.maybe_publish_state()
        if during is not None:
            during()
        time.sleep(min(runtime.seconds_to_next_step() for runtime in members))


def same_steps(leader: dict[int, Record], other: dict[int, Record], after: int = 0) -> list[int]:
    """The steps both ran (after ``after``), having checked each is the same on both."""
    steps = sorted(step for step in other if step > after and step in leader)
    for step in steps:
        mine, theirs = leader[step], other[step]
        assert mine[:5] == theirs[:5], f"step {step}: beat, bpm, source, running, room {mine[:5]} != {theirs[:5]}"
        differing = {name for name, value in mine[5].items() if theirs[5].get(name) != value}
        assert not differing, f"step {step}: parameters differ: {sorted(differing)[:5]}"
    return steps


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Any]]:
    broker = start_mosquitto(tmp_path)
    venue = tmp_path / "hall.toml"
    venue.write_text(VENUE.format(port=broker.port))
    with ExitStack() as stack:
        stack.callback(lambda: stop(broker.process))

        def start(name: str) -> tuple[Runtime, dict[int, Record]]:
            runtime, records = member(name, venue, tmp_path, monkeypatch)
            stack.callback(runtime.stop)
            return runtime, records

        yield tmp_path, start


def test_tempo_room_and_an_edited_preset_reach_every_member_at_the_same_step(cluster: tuple[Path, Any]) -> None:
    home, start = cluster
    one, led = start("one")
    two, followed = start("two")
    members = [one, two]
    assert one.cluster is not None and two.cluster is not None
    run(members, 0.5)
    deadline = time.monotonic() + 30
    while not (one.cluster.leading and two.engine.step_count > 60):
        assert time.monotonic() < deadline, "two following one"
        run(members, 0.2)

    # -- a tap on the leader (the MIDI router's and the tempo strip's route) -------------------
    tapped = time.monotonic()
    assert one.engine.tempo.tap(tapped - 0.8) is None
    one.engine.tempo.tap(tapped - 0.4)
    assert one.engine.tempo.tap(tapped) == pytest.approx(150.0)
    two.engine.tempo.tap(tapped - 1.0)  # the follower's own taps (90 BPM): ignored while it follows
    two.engine.tempo.tap(tapped - 1.0 / 3)
    tap_step = one.engine.step_count
    run(members, 1.0)
    for runtime in members:
        assert runtime.build_status()["tempo"]["bpm"] == 150.0  # /status of each member
        assert runtime.engine.tempo.source is Source.TAP
    took = min(step for step, record in led.items() if abs(record[1] - 150.0) < 1e-6)
    assert took == min(step for step, record in followed.items() if abs(record[1] - 150.0) < 1e-6)
    print(f"tap at step {tap_step}: every member beats at 150 BPM from step {took}")
    assert 0 < took - tap_step <= 8  # the steps' delay (6), and the tick the tap fell in

    # -- MIDI clock at 100 BPM for a second, then silent: it leads, then lets the tempo run on -----
    def clock() -> None:
        one.engine.tempo.offer(Source.MIDI, time.monotonic(), 100.0)

    run(members, 1.0, clock)
    run(members, 1.5)
    sources = [record[2] for step, record in sorted(led.items()) if step > took]
    assert "midi" in sources and sources[-1] == "internal"
    assert one.engine.tempo.bpm == two.engine.tempo.bpm == 100.0
    clocked = same_steps(led, followed)

    # -- the leader's room; the preset file edited on the leader's side; then a joiner -----------
    one.engine.modulation.room = {"room.level": 0.8}  # as the runtime hands it each tick from its microphone
    two.engine.modulation.room = {"room.level": 0.1}  # the follower's own: not read
    mine = home / "one" / "presets" / f"{PRESET}.toml"
    theirs = home / "two" / "presets" / f"{PRESET}.toml"  # the follower's copy, as shipped
    original = load_preset(theirs)
    shipped = float(original.params[WARMTH])  # type: ignore[arg-type]
    warmth = 0.7 if shipped != 0.7 else 0.2
    mine.write_text(re.sub(rf'^"{WARMTH}" = .*$', f'"{WARMTH}" = {warmth}', mine.read_text(), flags=re.M) + EDIT)
    os.utime(mine, (time.time() + 2, time.time() + 2))
    edited_at = one.engine.step_count
    run(members, 1.5)
    three, joined = start("three")  # joins from the leader's snapshot: its tempo, its room, the edited preset
    members.append(three)
    three.engine.modulation.room = {"room.level": 0.3}
    run(members, 2.0)
    for runtime in members:
        assert runtime.engine.bank.target(WARMTH) == pytest.approx(warmth)
        assert [routing.source.kind for routing in runtime.engine.modulation.routings][-2:] == [SourceKind.ROOM,
                                                                                                  SourceKind.LFO]
    assert load_preset(theirs) == original, "the follower's copy: unedited (the joiner's too)"
    followed_steps = same_steps(led, followed)
    joined_steps = same_steps(led, joined)
    edited = min(step for step, record in led.items() if record[5][WARMTH] != shipped)
    assert edited in followed_steps and len(joined_steps) > 60
    for records in (led, followed, joined):
        room = {record[4] for step, record in records.items() if step > edited + 1}
        assert room == {0.8}, "every member's room.* read the leader's room"
    print(f"edit saved at step {edited_at}, taken up by one and two at step {edited}; the same on one and two "
          f"at {len(followed_steps)} steps ({len(clocked)} before the edit), on one and three (joined after it) "
          f"at {len(joined_steps)}")
