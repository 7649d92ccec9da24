"""Validation and the wire codecs: every bad input is a counted reason, nothing raises."""

from __future__ import annotations

import json
import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from installation.core.events import CommandInput, Event, EventKind, ParamInput
from installation.core.frames import NodeReading
from installation.nodes.codec import (
    MAX_BATCH_BYTES,
    MAX_BATCH_READINGS,
    NodeValues,
    decode_mqtt,
    decode_osc,
    encode_mqtt,
    encode_osc,
    parse_osc,
)
from installation.nodes.counters import REASONS
from installation.nodes.validate import Rejection, validate
from tests.fuzzing import fuzz

FUZZ = fuzz(500)


def reason(result: object) -> str:
    assert isinstance(result, Rejection), result
    assert result.reason in REASONS
    return result.reason


def test_a_good_reading() -> None:
    reading = validate("n1", {"potential_mv": 0.4, "toxin": 0.2, "x": 0.1, "y": 0.9}, t=1.0, source="osc")
    assert isinstance(reading, NodeReading)
    assert (reading.potential_mv, reading.toxin, reading.x, reading.y) == (0.4, 0.2, 0.1, 0.9)
    assert math.isnan(reading.waste) and math.isnan(reading.moisture)  # not measured


@pytest.mark.parametrize(("node", "values", "expected"), [
    ("N1", {"potential_mv": 0.1}, "bad_id"),
    ("a" * 33, {"potential_mv": 0.1}, "bad_id"),
    ("../etc", {"potential_mv": 0.1}, "bad_id"),
    ("n1", {"voltage": 0.1}, "unknown_field"),
    ("n1", {"potential_mv": "0.1"}, "wrong_type"),
    ("n1", {"potential_mv": True}, "wrong_type"),
    ("n1", {"potential_mv": math.nan}, "not_finite"),
    ("n1", {"toxin": math.inf}, "not_finite"),
    ("n1", {"potential_mv": 100.5}, "out_of_range"),
    ("n1", {"toxin": 1.2}, "out_of_range"),
    ("n1", {"x": 0.5, "y": 0.5}, "missing_field"),
    ("n1", {"potential_mv": 0.1, "x": 0.5}, "missing_field"),
    ("n1", {f"k{i}": 0 for i in range(9)}, "oversize"),
])
def test_bad_readings_are_rejected_with_a_reason(node: str, values: dict[str, object], expected: str) -> None:
    assert reason(validate(node, values, t=0.0, source="osc")) == expected


def test_osc_node_named_and_positional() -> None:
    named = decode_osc("/myco/node/n1", ["potential_mv", 0.5, "toxin", 0.1])
    assert named == NodeValues("n1", {"potential_mv": 0.5, "toxin": 0.1})
    positional = decode_osc("/myco/node/n2", [0.5, 0.1, 0.2, 0.3, 0.4, 0.6])
    assert isinstance(positional, NodeValues)
    assert positional.values == {"potential_mv": 0.5, "toxin": 0.1, "waste": 0.2, "moisture": 0.3, "x": 0.4, "y": 0.6}
    assert reason(decode_osc("/myco/node/n2", [0.5, 0.1, 0.2, 0.3, 0.4])) == "malformed"
    assert reason(decode_osc("/myco/node/n2", ["toxin", 0.1, "waste"])) == "malformed"
    assert reason(decode_osc("/myco/node/n2", [])) == "missing_field"


def test_osc_param_event_preset() -> None:
    assert decode_osc("/myco/param/sim.growth_rate", [2.0]) == ParamInput("sim.growth_rate", 2.0, "osc")
    event = decode_osc("/myco/event/surge", [2.0, 0.2, 0.3])
    assert isinstance(event, Event) and event.kind is EventKind.SURGE
    assert (event.strength, event.x, event.y, event.source) == (2.0, 0.2, 0.3, "osc")
    lost = decode_osc("/myco/event/node_lost", ["n7"])
    assert isinstance(lost, Event) and lost.node == "n7"
    assert decode_osc("/myco/preset", ["kai-1"]) == CommandInput("preset", "kai-1", "osc")
    assert reason(decode_osc("/myco/preset", ["../../etc/passwd"])) == "wrong_type"
    assert reason(decode_osc("/myco/event/party", [1.0])) == "unknown_address"
    assert reason(decode_osc("/myco/event/surge", [9.0])) == "out_of_range"
    assert reason(decode_osc("/myco/param/Bad Name", [1.0])) == "unknown_address"
    assert reason(decode_osc("/other", [1])) == "unknown_address"


def test_mqtt_payloads() -> None:
    good = decode_mqtt("myco/nodes/n1", b'{"potential_mv": 0.2, "moisture": 0.5}')
    assert good == [NodeValues("n1", {"potential_mv": 0.2, "moisture": 0.5})]
    assert reason(decode_mqtt("myco/nodes/n1", b'{"potential_mv": NaN}')) == "not_finite"
    assert reason(decode_mqtt("myco/nodes/n1", b"not json")) == "malformed"
    assert reason(decode_mqtt("myco/nodes/n1", b"\xff\xfe")) == "malformed"
    assert reason(decode_mqtt("myco/nodes/n1", b"[1, 2]")) == "wrong_type"
    assert reason(decode_mqtt("myco/nodes/n1", b'{"a": "' + b"x" * 2000 + b'"}')) == "oversize"
    assert reason(decode_mqtt("myco/nodes/BAD", b"{}")) == "bad_id"
    assert reason(decode_mqtt("myco/other/n1", b"{}")) == "unknown_address"
    big = decode_mqtt("myco/nodes/n1", b'{"potential_mv": 1e999}')
    assert isinstance(big, list)
    assert reason(validate(big[0].node, big[0].values, t=0, source="mqtt")) == "not_finite"


def test_mqtt_batch() -> None:
    """``myco/nodes/batch``: many nodes' readings in one message, each validated on its own."""
    payload = b'{"n1": {"potential_mv": 0.2}, "n2": {"moisture": 0.5, "x": 0.1, "y": 0.9}, "BAD": {"toxin": 0.1}}'
    decoded = decode_mqtt("myco/nodes/batch", payload)
    assert decoded == [NodeValues("n1", {"potential_mv": 0.2}), NodeValues("n2", {"moisture": 0.5, "x": 0.1, "y": 0.9}),
                       NodeValues("BAD", {"toxin": 0.1})]
    assert isinstance(decoded, list)
    results = [validate(v.node, v.values, t=0, source="mqtt") for v in decoded]
    assert [type(r) for r in results[:2]] == [NodeReading, NodeReading] and reason(results[2]) == "bad_id"
    assert reason(decode_mqtt("myco/nodes/batch", b'{"n1": 0.2}')) == "wrong_type"
    assert reason(decode_mqtt("myco/nodes/batch", b"[]")) == "wrong_type"
    many = "{" + ",".join(f'"n{k}": {{"toxin": 0.1}}' for k in range(MAX_BATCH_READINGS + 1)) + "}"
    assert reason(decode_mqtt("myco/nodes/batch", many.encode())) == "oversize"
    assert len(decode_mqtt("myco/nodes/batch", many.replace('"n0": {"toxin": 0.1},', "").encode())) == 512  # type: ignore[arg-type]
    # a batch may be larger than a single reading's 1,024 bytes, not without limit
    assert reason(decode_mqtt("myco/nodes/batch", b'{"n1": {"x": "' + b"y" * MAX_BATCH_BYTES + b'"}}')) == "oversize"


def _osc(address: str, *args: object) -> bytes:
    """An OSC message, built by hand from the specification (no python-osc in the core's venv)."""
    def pad(raw: bytes) -> bytes:
        return raw + b"\0" * (4 - len(raw) % 4)
    tags, body = ",", b""
    for arg in args:
        if isinstance(arg, bool):
            tags += "T" if arg else "F"
        elif isinstance(arg, int):
            tags, body = tags + "i", body + struct.pack(">i", arg)
        elif isinstance(arg, float):
            tags, body = tags + "f", body + struct.pack(">f", arg)
        else:
            tags, body = tags + "s", body + pad(str(arg).encode())
    return pad(address.encode()) + pad(tags.encode()) + body


def _bundle(*elements: bytes) -> bytes:
    return b"#bundle\0" + bytes(8) + b"".join(struct.pack(">i", len(e)) + e for e in elements)


def test_parse_osc_fast_path() -> None:
    assert parse_osc(_osc("/myco/node/n1", 0.5)) == [("/myco/node/n1", [0.5])]
    assert parse_osc(_osc("/myco/node/n12", "potential_mv", 0.25, "x", 1, "ok", True, False)) == [
        ("/myco/node/n12", ["potential_mv", 0.25, "x", 1, "ok", True, False])]
    assert parse_osc(_osc("/myco/param/a.b")) == [("/myco/param/a.b", [])]
    inner = _bundle(_osc("/myco/node/c", 3))
    assert parse_osc(_bundle(_osc("/myco/node/a", 1.0), _osc("/myco/node/b", 2.0), inner)) == [
        ("/myco/node/a", [1.0]), ("/myco/node/b", [2.0]), ("/myco/node/c", [3])]
    assert parse_osc(_bundle()) == []  # the listener counts an empty bundle as malformed
    blob = _osc("/myco/node/n1", 0.5).replace(b",f\0\0", b",b\0\0")  # a type the fast path leaves alone
    for other in (b"", b"junk", _osc("/myco/node/n1", 0.5)[:-2], blob, _bundle(_osc("/a", 1.0))[:-4],
                  _osc("/myco/node/n1", 0.5) + bytes(4)):
        assert parse_osc(other) is None


@FUZZ
@given(st.binary(max_size=64))
def test_fuzz_parse_osc_never_raises(data: bytes) -> None:
    messages = parse_osc(data)
    assert messages is None or all(isinstance(address, str) and isinstance(args, list) for address, args in messages)


osc_args = st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-2**40, 2**40),
                              st.text(max_size=20), st.booleans(), st.binary(max_size=8), st.none()), max_size=14)
addresses = st.one_of(st.sampled_from(["/myco/node/n1", "/myco/param/sim.growth_rate", "/myco/event/surge",
                                       "/myco/event/node_lost", "/myco/preset"]),
                      st.text(max_size=40).map(lambda t: "/myco/node/" + t), st.text(max_size=40))


@FUZZ
@given(addresses, osc_args)
def test_fuzz_osc_messages_never_raise(address: str, args: list[object]) -> None:
    decoded = decode_osc(address, args)
    if isinstance(decoded, Rejection):
        assert decoded.reason in REASONS
    elif isinstance(decoded, NodeValues):
        result = validate(decoded.node, decoded.values, t=0.0, source="osc")
        assert isinstance(result, (NodeReading, Rejection))
        if isinstance(result, NodeReading):
            assert all(math.isnan(v) or -100 <= v <= 100 for v in (result.potential_mv, result.toxin))
    else:
        assert isinstance(decoded, (ParamInput, Event, CommandInput))


json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.floats(), st.integers(), st.text(max_size=10)),
                           lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                   st.dictionaries(st.text(max_size=12), inner, max_size=5)),
                           max_leaves=12)


@FUZZ
@given(st.one_of(st.binary(max_size=1500), json_values.map(lambda v: json.dumps(v).encode())),
       st.sampled_from(["myco/nodes/n1", "myco/nodes/", "myco/nodes/a/b"]))
def test_fuzz_mqtt_payloads_never_raise(payload: bytes, topic: str) -> None:
    decoded = decode_mqtt(topic, payload)
    if isinstance(decoded, Rejection):
        assert decoded.reason in REASONS
        return
    assert len(decoded) == 1
    result = validate(decoded[0].node, decoded[0].values, t=0.0, source="mqtt")
    assert isinstance(result, (NodeReading, Rejection))
    if isinstance(result, Rejection):
        assert result.reason in REASONS


readings = st.builds(
    NodeReading,
    node=st.from_regex(r"[a-z0-9_-]{1,32}", fullmatch=True),
    t=st.just(0.0),
    potential_mv=st.floats(-100, 100),
    toxin=st.one_of(st.just(math.nan), st.floats(0, 1)),
    waste=st.one_of(st.just(math.nan), st.floats(0, 1)),
    moisture=st.one_of(st.just(math.nan), st.floats(0, 1)),
    x=st.one_of(st.none(), st.floats(0, 1)),
    y=st.floats(0, 1),
).map(lambda r: r if r.x is not None else NodeReading(r.node, r.t, r.potential_mv, r.toxin, r.waste, r.moisture))


def same(a: NodeReading, b: NodeReading) -> bool:
    values = ("potential_mv", "toxin", "waste", "moisture")
    return a.node == b.node and (a.x, a.y) == (b.x, b.y) and all(
        (math.isnan(getattr(a, v)) and math.isnan(getattr(b, v))) or getattr(a, v) == getattr(b, v) for v in values)


@fuzz(500)
@given(readings)
def test_encoded_readings_decode_to_themselves(reading: NodeReading) -> None:
    address, args = encode_osc(reading)
    osc = decode_osc(address, args)
    assert isinstance(osc, NodeValues)
    back = validate(osc.node, osc.values, t=0.0, source="osc")
    assert isinstance(back, NodeReading) and same(back, reading)
    topic, payload = encode_mqtt(reading)
    mqtt = decode_mqtt(topic, payload)
    assert isinstance(mqtt, list) and len(mqtt) == 1
    back = validate(mqtt[0].node, mqtt[0].values, t=0.0, source="mqtt")
    assert isinstance(back, NodeReading) and same(back, reading)
