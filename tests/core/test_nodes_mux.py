"""The mux: live data replaces the simulated twin, silence hands back smoothly, joins are bounded."""

from __future__ import annotations

import threading

import pytest

from installation.core.events import Event, EventKind
from installation.core.frames import WorldFrame
from installation.nodes.counters import Counters
from installation.nodes.mux import NodeMux
from installation.nodes.ratelimit import RateLimiter
from installation.sim.defaults import demo_seed
from installation.sim.kernel import Kernel

DT = 1 / 60
PARAMS = {"nodes.silence_s": 1.0, "nodes.fade_s": 0.5, "sim.spike_rate": 4.0}


def make_mux(**kwargs: object) -> NodeMux:
    return NodeMux(Kernel(demo_seed(31, 12), grid=(18, 32)), **kwargs)  # type: ignore[arg-type]


def steps(mux: NodeMux, seconds: float, params: dict[str, float] | None = None) -> list[WorldFrame]:
    return [mux.step(DT, (), {**PARAMS, **(params or {})}) for _ in range(round(seconds / DT))]


def test_live_reading_replaces_the_simulated_twin() -> None:
    mux = make_mux()
    assert mux.offer("osc", "n001", {"potential_mv": 1.5, "toxin": 0.7})
    frames = steps(mux, 0.8)
    i = frames[-1].index_of("n001")
    assert frames[-1].live[i] and frames[-1].toxin[i] == pytest.approx(0.7)
    assert frames[-1].potential_mv[i] == pytest.approx(1.5)
    assert frames[0].live[i] == False  # noqa: E712 - fading in over nodes.fade_s
    assert frames[5].toxin[i] < 0.5 < frames[-1].toxin[i]
    # Values the node does not measure stay the simulation's; other nodes stay simulated.
    assert frames[-1].live.sum() == 1
    # The live node's simulated twin stops spiking (the others go on), even when asked to.
    cues = [Event(EventKind.SPIKE, node=node, source="midi") for node in ("n001", "n002")]
    frame = mux.step(DT, cues, PARAMS)
    assert [e.node for e in frame.events if e.kind is EventKind.SPIKE] == ["n002"]


def test_silence_hands_over_to_the_simulation_and_return_takes_back() -> None:
    mux = make_mux()
    i = mux.kernel.ids.index("n002")
    timeline: list[tuple[bool, float]] = []
    for second in range(6):
        if second in (0, 1, 4, 5):
            mux.offer("mqtt", "n002", {"potential_mv": 0.0, "toxin": 1.0})
        for frame in steps(mux, 1.0):
            timeline.append((bool(frame.live[i]), float(frame.toxin[i])))
    live = [flag for flag, _ in timeline]
    assert live[50] and live[60 + 50]  # live while fresh (silence_s = 1)
    assert not any(live[150:240])  # silent: simulated again
    assert live[5 * 60 + 30]  # data returned
    # The hand-over is a cross-fade, not a cut: toxin passes through values between.
    handover = [toxin for _, toxin in timeline[2 * 60:2 * 60 + 35]]
    assert any(0.2 < toxin < 0.8 for toxin in handover)


def test_unknown_nodes_join_up_to_the_bound() -> None:
    mux = make_mux()
    for n in range(5):
        mux.offer("osc", f"guest{n}", {"potential_mv": 0.0, "x": 0.1 * n + 0.1, "y": 0.5})
    frames = steps(mux, 0.1, {"nodes.max_joined": 3})
    assert [n for n in frames[-1].node_ids if n.startswith("guest")] == ["guest0", "guest1", "guest2"]
    joined = [e.node for f in frames for e in f.events if e.kind is EventKind.NODE_JOINED]
    assert joined == ["guest0", "guest1", "guest2"]
    assert mux.counters.snapshot()["osc"]["dropped"] == {"too_many_nodes": 2}
    assert mux.status()["sources"]["osc"]["accepted"] == 5  # type: ignore[index]
    # A joined node that leaves frees its place.
    mux.step(DT, [Event(EventKind.NODE_LOST, node="guest0")], {**PARAMS, "nodes.max_joined": 3})
    steps(mux, 2.0, {"nodes.max_joined": 3})
    assert mux.joined == 2
    mux.offer("osc", "guest4", {"potential_mv": 0.0})
    assert "guest4" in steps(mux, DT, {"nodes.max_joined": 3})[-1].node_ids


def test_live_spikes_detected_with_hysteresis() -> None:
    mux = make_mux()
    signal = [0.0] * 10 + [0.8, 0.9, 0.85] + [0.0] * 5 + [0.6] + [0.0] * 5
    spikes = []
    for value in signal:
        mux.offer("osc", "n003", {"potential_mv": value})
        for frame in steps(mux, 0.1):
            spikes += [e for e in frame.events if e.kind is EventKind.SPIKE and e.source == "osc"]
    assert [e.node for e in spikes] == ["n003", "n003"]  # one per excursion, not one per sample
    assert spikes[0].strength == pytest.approx(0.8 / 0.25, rel=0.05)


def test_queue_and_rate_limits_count_what_they_drop() -> None:
    clock = [0.0]
    mux = make_mux(limiter=RateLimiter(rate_per_s=10, burst=5, clock=lambda: clock[0]), capacity=3,
                   counters=Counters())
    results = [mux.offer("osc", "n001", {"potential_mv": 0.1}) for _ in range(8)]
    assert results == [True] * 3 + [False] * 5
    assert mux.counters.snapshot()["osc"]["dropped"] == {"queue_full": 2, "rate_limited": 3}
    clock[0] = 1.0
    steps(mux, DT)
    assert mux.offer("osc", "n001", {"potential_mv": 0.1})


def test_offer_from_many_threads() -> None:
    mux = make_mux()

    def send(name: str) -> None:
        for k in range(500):
            mux.offer(name, f"t{name}", {"potential_mv": (k % 10) / 10})

    threads = [threading.Thread(target=send, args=(f"s{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    frame = steps(mux, DT)[-1]
    assert {f"ts{n}" for n in range(4)} <= set(frame.node_ids)
    assert sum(c["accepted"] for c in mux.counters.snapshot().values()) == 2000  # type: ignore[misc]
