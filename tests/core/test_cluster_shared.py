"""What a cluster shares besides the inputs: the leader's tempo as its sources set it, its room's
sound and a preset file edited during the show, as stepped items (the pure part: the items on
the wire, and the tempo a member takes from one)."""

from __future__ import annotations

import json
import math

import pytest

from installation.core.cluster import (
    MAX_PRESET_TEXT,
    ProtocolError,
    decode_preset_file,
    decode_room,
    decode_tempo,
    encode_message,
    encode_preset_file,
    encode_room,
    encode_tempo,
)
from installation.core.tempo import Source, Stamp, Tempo


def wire(item: dict[str, object]) -> dict[str, object]:
    """Through the broker: JSON out and back, as a batch carries it."""
    decoded = json.loads(encode_message({"item": item}))["item"]
    assert isinstance(decoded, dict)
    return decoded


def test_the_tempo_survives_the_wire_exactly() -> None:
    stamp = Stamp(bpm=128.37291, beat=4711.123456789012, running=False, source=Source.LINK)
    assert decode_tempo(wire(encode_tempo(stamp))) == stamp


@pytest.mark.parametrize("change", [{"bpm": 0.0}, {"bpm": 1e6}, {"bpm": "fast"}, {"beat": math.inf},
                                    {"running": "yes"}, {"source": "radio"}, {"source": None}])
def test_a_bad_tempo_is_refused(change: dict[str, object]) -> None:
    item = {**encode_tempo(Stamp(120.0, 1.0, True, Source.TAP)), **change}
    with pytest.raises(ProtocolError):
        decode_tempo(item)


def test_a_member_that_takes_the_stamp_at_a_step_beats_as_the_leader_from_there() -> None:
    """The leader's sources steer ``outside`` (its machine's clock); every member's show tempo
    (show time) takes the stamp at one step: from there, the same beat at every step, bit for bit."""
    leader, follower, outside = Tempo(), Tempo(), Tempo(t=5000.0)
    leader.outside = follower.outside = outside
    assert leader.tap(5000.0) is None and leader.tap(5000.5) == pytest.approx(120.0)  # sources go outside
    assert leader.tap(5000.95) == pytest.approx(60 / 0.475)
    assert leader.bpm == follower.bpm == 120.0 and leader.changes == 0, "the show's tempo waits for its step"
    step_t = 12.5  # the show time of the step the stamp is scheduled for
    stamp = decode_tempo(wire(encode_tempo(outside.stamp(5000.95 + 0.1))))  # its beat 0.1 s on
    assert stamp.source is Source.TAP and stamp.bpm == pytest.approx(126.3157, abs=1e-3)
    assert stamp.beat == pytest.approx(outside.beat_at(5001.05))
    for member in (leader, follower):
        member.take(step_t, stamp)
    for step in range(600):
        t = step_t + step / 60
        assert leader.beat_at(t) == follower.beat_at(t)
    assert leader.beat_at(step_t) == stamp.beat and leader.status(step_t) == follower.status(step_t)


def test_a_clock_that_leads_in_a_stamp_holds_off_manual_changes_on_every_member() -> None:
    tempo = Tempo()
    tempo.take(10.0, Stamp(140.0, 32.0, True, Source.MIDI))
    assert not tempo.set_bpm(90.0, 10.5), "MIDI clock leads: the operator's tempo waits, as on the leader"
    assert tempo.settle(11.5) is Source.INTERNAL and tempo.bpm == 140.0  # quiet for a second: it runs on
    assert tempo.set_bpm(90.0, 11.5) and tempo.bpm == 90.0


def test_the_tempo_state_restores_the_beat_bit_for_bit() -> None:
    """A joiner restores the leader's tempo from the snapshot: the same anchor, so the same floats."""
    leader = Tempo()
    leader.take(3.0, Stamp(133.3, 7.25, True, Source.LINK))
    leader.set_beats_per_bar(3)
    joiner = Tempo(bpm=90.0)
    joiner.restore_state(json.loads(json.dumps(leader.save_state())))
    assert [joiner.beat_at(3.0 + k / 60) for k in range(300)] == [leader.beat_at(3.0 + k / 60) for k in range(300)]
    assert joiner.status(4.0) == leader.status(4.0)
    assert joiner.settle(3.5) is Source.LINK, "Link was heard: it leads on the joiner too"
    with pytest.raises((KeyError, ValueError, TypeError)):
        joiner.restore_state({**leader.save_state(), "source": "radio"})


def test_the_room_travels_rounded_and_only_its_features() -> None:
    features = {"room.level": 0.123456789, "room.low": 0.5, "room.onset": 1.0, "speakers.gain": 3.0,
                "room.mid": math.nan}
    item = wire(encode_room(features))
    assert decode_room(item) == {"room.level": 0.1235, "room.low": 0.5, "room.onset": 1.0}
    assert len(encode_message(item)) < 80, "a few floats, not every reading"
    for bad in ({"room": {"room.level": "loud"}}, {"room": {"other": 0.1}}, {"room": [0.1]}, {}):
        with pytest.raises(ProtocolError):
            decode_room(bad)


def test_an_edited_preset_travels_as_its_text() -> None:
    text = '[preset]\ntitle = "Édith"\nseed = "lumen"\nlook = "festival"\n'
    assert decode_preset_file(wire(encode_preset_file("kai-1-living-city", text))) == ("kai-1-living-city", text)
    for bad in ({"k": "preset_file", "name": "x", "text": "a" * (MAX_PRESET_TEXT + 1)},
                {"k": "preset_file", "name": "x", "text": 3}, {"k": "preset_file", "text": ""}):
        with pytest.raises(ProtocolError):
            decode_preset_file(bad)
