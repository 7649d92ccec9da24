"""The OSC listener against the real thing: oscsend (liblo) and raw UDP datagrams."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

from installation.core.events import CommandInput, Event, EventKind, InputQueue, ParamInput
from installation.inputs.osc import OscListener
from installation.nodes.codec import NodeValues
from installation.nodes.mux import NodeMux
from installation.nodes.ratelimit import RateLimiter
from installation.sim.defaults import demo_seed
from installation.sim.kernel import Kernel
from tests.fuzzing import fuzz
from tests.waiting import wait_for

PARAMS = {"nodes.fade_s": 0.0, "nodes.silence_s": 0.5}


@pytest.fixture
def osc() -> Iterator[OscListener]:
    mux = NodeMux(Kernel(demo_seed(51, 8), grid=(18, 32)))
    listener = OscListener(mux, InputQueue(), port=0)
    listener.start()
    try:
        yield listener
    finally:
        listener.stop()


def oscsend(port: int, address: str, types: str, *values: object) -> None:
    binary = shutil.which("oscsend")
    assert binary, "oscsend (liblo-tools) is required"
    subprocess.run([binary, "127.0.0.1", str(port), address, types, *map(str, values)], check=True, timeout=10)


def received(listener: OscListener) -> int:
    return int(listener.mux.counters.snapshot().get("osc", {}).get("received", 0))  # type: ignore[call-overload]


def test_binds_to_loopback_on_an_ephemeral_port_and_stops_clean(osc: OscListener) -> None:
    assert osc.port > 0 and osc.host == "127.0.0.1"
    assert any(t.name == f"osc-{osc.port}" for t in threading.enumerate())
    osc.stop()
    assert not any(t.name.startswith(f"osc-{osc.port}") for t in threading.enumerate())
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", osc.port))  # the port is free again


def test_oscsend_positional_and_named_readings_reach_the_frame(osc: OscListener) -> None:
    oscsend(osc.port, "/myco/node/n001", "ffff", 0.75, 0.5, 0.25, 0.125)
    oscsend(osc.port, "/myco/node/visitor", "sfsfsfsf", "potential_mv", -0.5, "toxin", 0.9, "x", 0.2, "y", 0.3)
    wait_for(lambda: received(osc) == 2, 5, "two messages received")
    frame = osc.mux.step(1 / 60, (), PARAMS)
    i, j = frame.index_of("n001"), frame.index_of("visitor")
    assert frame.live[i] and frame.live[j]
    assert (frame.potential_mv[i], frame.toxin[i], frame.waste[i], frame.moisture[i]) == (0.75, 0.5, 0.25, 0.125)
    assert frame.potential_mv[j] == -0.5 and tuple(frame.positions[j]) == pytest.approx((0.2, 0.3))
    assert any(e.kind is EventKind.NODE_JOINED and e.node == "visitor" for e in frame.events)


def test_param_event_preset_and_bundles_go_to_the_input_queue(osc: OscListener) -> None:
    oscsend(osc.port, "/myco/param/sim.growth_rate", "f", 2.5)
    oscsend(osc.port, "/myco/event/toxin_cluster", "fff", 2.0, 0.25, 0.75)
    oscsend(osc.port, "/myco/preset", "s", "kai-2")
    bundle = OscBundleBuilder(IMMEDIATELY)
    for node, value in (("n002", 0.1), ("n003", 0.2)):
        message = OscMessageBuilder(address=f"/myco/node/{node}")
        message.add_arg(value)
        bundle.add_content(message.build())  # type: ignore[arg-type]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.sendto(bundle.build().dgram, ("127.0.0.1", osc.port))
    wait_for(lambda: received(osc) == 5, 5, "five messages received")
    items = osc.inputs.drain()
    assert ParamInput("sim.growth_rate", 2.5, "osc") in items
    assert CommandInput("preset", "kai-2", "osc") in items
    event = next(item for item in items if isinstance(item, Event))
    assert (event.kind, event.strength, event.x, event.y) == (EventKind.TOXIN_CLUSTER, 2.0, 0.25, 0.75)
    frame = osc.mux.step(1 / 60, (), PARAMS)
    assert frame.potential_mv[frame.index_of("n003")] == pytest.approx(0.2)


def test_silent_node_falls_back_to_the_simulation_and_returns(osc: OscListener) -> None:
    mux = osc.mux
    oscsend(osc.port, "/myco/node/n004", "ff", 0.0, 1.0)
    wait_for(lambda: received(osc) == 1, 5, "the first message received")
    states = [bool(mux.step(1 / 60, (), PARAMS).live[mux.kernel.ids.index("n004")]) for _ in range(60)]
    assert states[0] and not states[-1]  # live, then silent > 0.5 s: simulated
    oscsend(osc.port, "/myco/node/n004", "ff", 0.0, 1.0)
    wait_for(lambda: received(osc) == 2, 5, "two messages received")
    frame = mux.step(1 / 60, (), PARAMS)
    assert frame.live[frame.index_of("n004")] and frame.toxin[frame.index_of("n004")] == 1.0


def test_raw_random_datagrams_are_counted_and_the_listener_survives(osc: OscListener) -> None:
    rng = random.Random(5)
    sent = 400
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for n in range(sent):
            size = rng.choice([0, 1, 3, 4, 8, 16, 64, 512, 1500])
            prefix = rng.choice([b"", b"/", b"/myco/node/n1\x00\x00\x00", b"#bundle\x00"])
            sender.sendto(prefix + os.urandom(size), ("127.0.0.1", osc.port))
            if n % 50 == 0:
                time.sleep(0.01)  # let the one server thread keep up: we count, we do not want kernel drops
    wait_for(lambda: received(osc) >= sent, 5, "every datagram sent")
    counts = osc.mux.counters.snapshot()["osc"]
    assert counts["accepted"] == 0
    assert counts["dropped_total"] == counts["received"]  # type: ignore[index]
    assert set(counts["dropped"]) <= {"malformed", "oversize", "unknown_address", "bad_id",  # type: ignore[arg-type]
                                      "missing_field", "wrong_type", "not_finite", "out_of_range", "unknown_field"}
    oscsend(osc.port, "/myco/node/n001", "f", 0.5)
    wait_for(lambda: osc.mux.counters.snapshot()["osc"]["accepted"] == 1, 5, "the reading accepted")


@fuzz(300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=30), st.lists(st.one_of(st.floats(width=32), st.integers(-2**31, 2**31 - 1),
                                                 st.text(max_size=12), st.booleans()), max_size=10))
def test_fuzz_messages_through_the_socket(osc: OscListener, tail: str, args: list[object]) -> None:
    before = received(osc)
    message = OscMessageBuilder(address="/myco/node/" + tail if tail[:1] != "/" else tail)
    for arg in args:
        message.add_arg(arg)
    try:
        datagram = message.build().dgram
    except Exception:  # the builder refuses some values; nothing to send then
        return
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.sendto(datagram, ("127.0.0.1", osc.port))
    wait_for(lambda: received(osc) > before, 5, "the fuzzed datagram")
    counts = osc.mux.counters.snapshot()["osc"]
    assert counts["accepted"] + counts["dropped_total"] == counts["received"]  # type: ignore[operator]


def test_mapping_messages_go_whole_to_the_sink_and_without_one_are_refused(osc: OscListener) -> None:
    oscsend(osc.port, "/myco/output/left/corner/1", "ff", 0.9, 0.05)  # the fixture's listener has no sink
    wait_for(lambda: received(osc) == 1, 5, "the mapping message counted")
    assert osc.mux.counters.snapshot()["osc"]["dropped"] == {"no_venue": 1}
    messages: list[tuple[str, list[object]]] = []
    room = [True]

    def sink(address: str, args: list[object]) -> bool:
        if room[0]:
            messages.append((address, args))
        return room[0]

    mux = NodeMux(Kernel(demo_seed(51, 8), grid=(18, 32)))
    with OscListener(mux, InputQueue(), port=0, mapping_sink=sink) as listener:
        oscsend(listener.port, "/myco/output/left/corner/1", "ff", 0.9, 0.05)
        oscsend(listener.port, "/myco/venue/save", "")
        oscsend(listener.port, "/myco/node/n001", "f", 0.5)  # the node decoding is untouched
        wait_for(lambda: received(listener) == 3, 5, "three messages received")
        room[0] = False  # the app's queue is full
        oscsend(listener.port, "/myco/output/left/pattern", "s", "grid")
        wait_for(lambda: received(listener) == 4, 5, "four messages received")
        counts = mux.counters.snapshot()["osc"]
    assert [address for address, _ in messages] == ["/myco/output/left/corner/1", "/myco/venue/save"]
    args = messages[0][1]
    assert args == [pytest.approx(0.9), pytest.approx(0.05)] and all(isinstance(a, float) for a in args)
    assert messages[1][1] == []
    assert counts["accepted"] == 3 and counts["dropped"] == {"queue_full": 1}


def _reading(node: str, value: float) -> bytes:
    message = OscMessageBuilder(address=f"/myco/node/{node}")
    message.add_arg(value)
    return message.build().dgram


def test_many_readings_from_python_osc_and_oscsend_lose_nothing() -> None:
    """3,000 readings in bursts (well within the receive buffer) and 20 from oscsend: every one counted
    accepted, and each node's last value is in the frame."""
    mux = NodeMux(Kernel(demo_seed(52, 8), grid=(18, 32)), limiter=RateLimiter(rate_per_s=1e9, burst=1e9))
    with OscListener(mux, InputQueue(), port=0) as listener, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for k in range(3000):
            sender.sendto(_reading(f"m{k % 50:02d}", k / 3000), ("127.0.0.1", listener.port))
            if k % 200 == 199:
                time.sleep(0.01)
        for k in range(20):
            oscsend(listener.port, f"/myco/node/m{k:02d}", "f", 1.0 + k / 100)
        wait_for(lambda: received(listener) == 3020, 20, "every reading received")
    counts = mux.counters.snapshot()["osc"]
    assert (counts["received"], counts["accepted"], counts["dropped_total"]) == (3020, 3020, 0)
    frame = mux.step(1 / 60, (), PARAMS)
    expected = {f"m{k:02d}": 1.0 + k / 100 for k in range(20)} | {f"m{k:02d}": (2950 + k) / 3000 for k in range(20, 50)}
    assert {node: float(frame.potential_mv[frame.index_of(node)]) for node in expected} == pytest.approx(expected)


def test_a_bundle_of_readings_is_taken_whole() -> None:
    mux = NodeMux(Kernel(demo_seed(53, 8), grid=(18, 32)))
    bundle = OscBundleBuilder(IMMEDIATELY)
    for k in range(30):  # ~30 readings fit the 1,024 bytes of a packet
        message = OscMessageBuilder(address=f"/myco/node/b{k:02d}")
        message.add_arg(k / 10)
        bundle.add_content(message.build())  # type: ignore[arg-type]
    with OscListener(mux, InputQueue(), port=0) as listener, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.sendto(bundle.build().dgram, ("127.0.0.1", listener.port))
        wait_for(lambda: received(listener) == 30, 5, "the bundle's readings")
    frame = mux.step(1 / 60, (), PARAMS)
    assert [float(frame.potential_mv[frame.index_of(f"b{k:02d}")]) for k in range(30)] == pytest.approx(
        [k / 10 for k in range(30)])


def test_a_full_queue_drops_and_counts() -> None:
    """With nobody stepping the mux, readings past its capacity are dropped as queue_full, counted."""
    mux = NodeMux(Kernel(demo_seed(54, 8), grid=(18, 32)), capacity=100)
    with OscListener(mux, InputQueue(), port=0) as listener, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for k in range(300):
            sender.sendto(_reading(f"q{k % 10}", 0.5), ("127.0.0.1", listener.port))
        wait_for(lambda: received(listener) == 300, 10, "every datagram read")
    counts = mux.counters.snapshot()["osc"]
    assert (counts["accepted"], counts["dropped"]) == (100, {"queue_full": 200})


def test_datagrams_the_socket_dropped_are_counted_and_nothing_else_is_lost(osc: OscListener) -> None:
    """The reader stopped (SIGSTOP) while more datagrams come than the socket's buffer holds: what the
    kernel dropped is ``socket_dropped``, every other reading is accepted once it runs again."""
    osc.mux.limiter = RateLimiter(rate_per_s=1e9, burst=1e9)
    pid = osc.receiver_pid
    assert pid is not None and osc.socket_dropped() == 0
    datagram = b"/myco/node/flood\0\0\0\0,f\0\0" + bytes(4)
    sent = 30_000  # ~37 MB of buffer accounting on loopback: more than the 8 MiB the socket has
    os.kill(pid, signal.SIGSTOP)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            for _ in range(sent):
                sender.sendto(datagram, ("127.0.0.1", osc.port))
    finally:
        os.kill(pid, signal.SIGCONT)
    dropped = osc.socket_dropped()
    assert dropped is not None and 0 < dropped < sent

    def taken() -> bool:  # the engine's part: steps take the queue (it holds 8,192 readings)
        osc.mux.step(1 / 60, (), PARAMS)
        return received(osc) == sent - dropped

    wait_for(taken, 20, "every datagram the socket kept")
    counts = osc.mux.counters.snapshot()["osc"]
    assert counts["accepted"] == sent - dropped and counts["dropped_total"] == 0


def test_the_readers_kept_heads_read_as_the_parser_does() -> None:
    """The reader keeps what a datagram's head means (node, value names, format): the second datagram
    with that head is read from the cache and must decode as the full parser decodes it."""
    from installation.inputs.osc import _Readings

    def message(address: str, *args: float | str) -> bytes:
        builder = OscMessageBuilder(address)
        for arg in args:
            builder.add_arg(arg)
        return builder.build().dgram

    datagrams = [message("/myco/node/a1", 0.5), message("/myco/node/a1", 0.25), message("/myco/node/a1", 3),
                 message("/myco/node/b2", 0.1, 0.2, 0.3, 0.4), message("/myco/node/b2", 0.1, 0.2, 0.3, 0.4, 0.5, 0.6),
                 message("/myco/node/b2", 1.0, 2.0, 3.0, 4.0, 5.0), message("/myco/node/Bad", 0.5),
                 message("/myco/node/c3", "potential_mv", 0.5), message("/myco/param/x", 0.5),
                 message("/myco/node/d4"), b"/myco/node/e5\0\0\0\0,f\0\0\0\0",
                 b"/myco/node/e5\0\0\0\0,f\0\0\0\0\0\0\0\0"]  # a reading, then one with bytes to spare
    readings = _Readings()
    for data in datagrams + datagrams:  # the second round from the kept heads
        assert readings(data) == readings._decode(data), data
    assert readings(message("/myco/node/a1", 0.75)) == [NodeValues("a1", {"potential_mv": 0.75})]
