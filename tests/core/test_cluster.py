"""The cluster's pure part: the venue's [cluster], the stepped inputs (lockstep), the show clock,
the messages (malformed and replayed ones refused) and the election (one leader per epoch)."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from installation.core.cluster import (
    DELAY_STEPS,
    Batch,
    Election,
    Member,
    Presence,
    ProtocolError,
    Schedule,
    ShowClock,
    Topics,
    decode_input,
    decode_reading,
    decode_wall,
    encode_input,
    encode_reading,
    encode_wall,
)
from installation.core.commands import Command
from installation.core.errors import LoadError
from installation.core.events import CommandInput, ControlInput, Event, EventKind, Input, ParamInput, RoutingsInput
from installation.core.frames import NodeReading
from installation.core.modulation import ModCurve, Routing, Shape, Source, SourceKind
from installation.core.tomlsource import TomlSource, parse_document
from installation.core.venue import parse_venue, render_venue

VENUE = """[venue]
title = "Hall"

[[output]]
name = "left"
region = [0.0, 0.0, 0.6, 1.0]
member = "one"

[[output]]
name = "right"
region = [0.4, 0.0, 1.0, 1.0]
member = "two"

[cluster]
broker = "mqtts://show:secret@broker.local:8883"
ca_file = "/etc/myco/ca.pem"

[[cluster.member]]
name = "one"
role = "leader"
priority = 1

[[cluster.member]]
name = "two"
priority = 2
"""


def venue(text: str):  # type: ignore[no-untyped-def]
    return parse_venue(TomlSource.parse(text, Path("/rooms/Big Hall.toml")))


def test_the_cluster_section_names_members_roles_and_the_outputs_each_renders() -> None:
    room = venue(VENUE)
    cluster = room.cluster
    assert cluster is not None
    assert cluster.namespace == "myco/Big-Hall"  # from the venue's name
    assert cluster.ca_file == "/etc/myco/ca.pem"
    assert [(m.name, m.role, m.priority) for m in cluster.members] == [("one", "leader", 1), ("two", "follower", 2)]
    assert [o.name for o in room.outputs_of("two")] == ["right"]
    assert [o.name for o in room.outputs_of(None)] == ["left", "right"]
    assert venue(render_venue(room, parse_document(VENUE, Path("hall.toml")))) == room  # saved, read the same


@pytest.mark.parametrize(("change", "problem"), [
    (('role = "leader"', 'role = "boss"'), "cluster.member[0].role: must be one of: leader, follower"),
    (('priority = 2', 'role = "leader"'), "exactly one member must have role"),
    (('member = "two"', 'member = "three"'), "output[1].member: 'three' is not a [[cluster.member]]"),
    (('mqtts://', 'http://'), "cluster.broker: must be a broker URL"),
    (('name = "two"', 'name = "one"'), "another member is already called 'one'"),
])
def test_mistakes_are_reported_with_their_line(change: tuple[str, str], problem: str) -> None:
    with pytest.raises(LoadError) as error:
        venue(VENUE.replace(*change))
    assert problem in str(error.value)
    assert "Big Hall.toml:" in str(error.value)


def test_every_input_kind_survives_the_wire_exactly() -> None:
    items: list[Input] = [Event(EventKind.SPIKE, 1.5, 0.7, 0.25, None, "n1", "osc", {"mv": 3.5}),
             ParamInput("render.glow", 0.123456789, "midi", fade_s=0.0), ParamInput("look.tint", (0.1, 0.2, 0.3), "ui"),
             CommandInput(Command.NEXT_ACT, "", "osc"), ControlInput(1, 74, 0.5)]
    wire = json.loads(json.dumps([encode_input(item) for item in items]))
    assert [decode_input(data) for data in wire] == items


def test_the_matrix_routings_and_live_readings_survive_the_wire_exactly() -> None:
    routings = RoutingsInput((Routing(Source(SourceKind.LFO, shape=Shape.SQUARE, rate=0.25, phase=0.5), "render.glow",
                                      -0.4, ModCurve.EXP, True),
                              Routing(Source(SourceKind.ROOM, "level"), "sim.growth", 0.3)), "ui")
    wire = json.loads(json.dumps(encode_input(routings), allow_nan=False))
    assert decode_input(wire) == routings
    reading = NodeReading("n7", 0.5, 12.25, math.nan, 0.1, 0.9, 0.3, None, "mqtt")
    back = decode_reading(json.loads(json.dumps(encode_reading(reading), allow_nan=False)))
    assert math.isnan(back.toxin) and replace(back, toxin=0.0) == replace(reading, toxin=0.0)
    with pytest.raises(ProtocolError):
        decode_reading({"k": "reading", "node": "n7", "t": 0.0, "mv": "high"})
    assert decode_wall(json.loads(json.dumps(encode_wall(1764600000.123456)))) == 1764600000.123456
    with pytest.raises(ProtocolError):
        decode_wall({"k": "wall", "wall": "now"})


@pytest.mark.parametrize("data", [
    None, [], {"k": "shell", "cmd": "rm -rf /"}, {"k": "command", "command": "format_disk"},
    {"k": "param", "name": "x", "value": {"a": 1}, "source": "s"}, {"k": "event", "kind": "spike", "t": "nan"},
    {"k": "control", "channel": "1", "number": 2, "value": float("inf")},
])
def test_anything_else_is_refused(data: object) -> None:
    with pytest.raises(ProtocolError):
        decode_input(data)


def batch(first: int, sealed: int, items: dict[int, list[dict[str, object]]] | None = None, epoch: int = 1) -> Batch:
    return Batch(epoch, "one", first, sealed, sealed - DELAY_STEPS + 1, 100.0, 60.0, items or {})


def test_a_follower_applies_the_leaders_items_at_their_step_and_once() -> None:
    leader, follower = Schedule(), Schedule()
    item = encode_input(CommandInput(Command.NEXT_ACT))
    assert item is not None
    leader.add(10, [item])
    leader.seal(10)
    sent = Batch.decode(batch(0, 10, {10: [item]}).encode())
    assert follower.accept(sent)
    assert follower.accept(Batch.decode(sent.encode()))  # QoS 1 delivered it twice
    assert follower.duplicates == 1
    assert [follower.take(step) for step in range(9, 12)] == [[], [item], []]
    assert not follower.accept(batch(13, 14))  # 11..12 never came: a gap, the follower must restore


def test_a_snapshot_rebases_the_schedule_and_keeps_the_batches_already_had() -> None:
    follower = Schedule()
    mine, theirs = encode_input(CommandInput(Command.NEXT_ACT)), encode_input(CommandInput(Command.PANIC))
    assert follower.accept(batch(0, 30, {25: [mine], 30: [mine]}))
    follower.rebase(20, {18: [theirs], 20: [theirs]})  # an older snapshot than the batches: they stay
    assert follower.sealed == 30 and follower.accept(batch(31, 32))
    assert [follower.take(step) for step in (18, 20, 25, 30)] == [[theirs], [theirs], [mine], [mine]]
    behind = Schedule()
    behind.rebase(40, {40: [theirs]})  # a joiner: the snapshot's items, then the batches after it
    assert behind.sealed == 40 and behind.accept(batch(41, 42)) and not behind.accept(batch(50, 52))


def test_a_batch_that_lies_about_its_steps_is_refused() -> None:
    with pytest.raises(ProtocolError):
        Batch.decode(batch(5, 10, {20: []}).encode())
    with pytest.raises(ProtocolError):
        Batch.decode(b'{"epoch": 1}')
    with pytest.raises(ProtocolError):
        Batch.decode(b"\xff\xfe")


def test_the_show_clock_says_where_the_leader_is_never_past_what_it_sealed() -> None:
    clock = ShowClock()
    clock.follow(batch(0, 600))  # the leader was at step 595 at wall time 100 s
    assert clock.leader_step(100.05) == pytest.approx(598)
    assert clock.leader_step(110.0) == 601


def test_topics_stay_inside_the_namespace() -> None:
    topics = Topics("myco/hall")
    assert topics.steps == "myco/hall/cluster/steps"
    assert topics.inside(topics.presence("one"))
    assert not topics.inside("myco/hall2/cluster/steps") and not topics.inside("myco/nodes/a")


def test_the_best_living_member_takes_over_and_an_old_leader_follows() -> None:
    one, two, three = Member("one", "leader", 1), Member("two", priority=2), Member("three", priority=3)
    at_two, at_three, at_one = Election(two), Election(three), Election(one)
    for election in (at_two, at_three):
        election.claim_heard("one", 1)
        election.hear(Presence("one", 1, True, heard=0.0))
    at_two.hear(Presence("three", 3, True, heard=4.0))
    at_three.hear(Presence("two", 2, True, heard=4.0))
    assert not at_two.should_claim(1.0)  # the leader was heard a second ago
    assert at_two.should_claim(4.0) and not at_three.should_claim(4.0)  # silent 4 s: two ranks first
    epoch = at_two.claim()
    assert (epoch, at_two.leading) == (2, True)
    assert at_three.claim_heard("two", epoch) and at_three.leader == "two"
    # the old leader comes back: it hears the retained claim of a later epoch and follows
    at_one.hear(Presence("two", 2, True, heard=10.0))
    assert at_one.claim_heard("two", epoch) and not at_one.should_claim(10.5)
    assert not at_three.claim_heard("one", 1)  # its old claim, replayed: refused
    assert at_three.leader == "two"
