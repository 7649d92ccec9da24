"""Any sequence of events, live readings and act changes keeps the world well-formed (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from installation.core.events import Event, EventKind
from installation.core.frames import FIELD_NAMES, WorldFrame
from installation.nodes.mux import NodeMux
from installation.sim.defaults import demo_seed
from installation.sim.kernel import Kernel
from tests.fuzzing import fuzz

unit = st.one_of(st.none(), st.floats(0.0, 1.0))
events = st.builds(
    Event,
    kind=st.sampled_from(list(EventKind)),
    strength=st.floats(0.0, 4.0),
    x=unit,
    y=unit,
    node=st.one_of(st.none(), st.sampled_from(["n000", "n003", "ghost", "Bad Id", "live1"])),
    data=st.dictionaries(st.sampled_from(["angle", "duration_s", "kind"]), st.floats(-10, 10), max_size=2),
)
actions = st.one_of(
    st.tuples(st.just("events"), st.lists(events, max_size=3)),
    st.tuples(st.just("reading"), st.fixed_dictionaries(
        {"node": st.sampled_from(["n001", "live1", "live2"]), "potential_mv": st.floats(-100, 100)})),
    st.tuples(st.just("reseed"), st.integers(1, 3)),
    st.tuples(st.just("wait"), st.integers(1, 90)),
)


def well_formed(frame: WorldFrame) -> None:
    n = frame.node_count
    assert len(set(frame.node_ids)) == n and frame.positions.shape == (n, 2)
    for name in ("potential_mv", "toxin", "waste", "moisture", "activity"):
        values = getattr(frame, name)
        assert values.shape == (n,) and np.isfinite(values).all()
    assert (frame.activity >= 0).all() and (frame.activity <= 1).all()
    assert np.abs(frame.potential_mv).max(initial=0) <= 100
    assert frame.links.shape[1] == 2 and (frame.links < n).all() and (frame.links >= 0).all()
    assert frame.flow.shape == frame.thickness.shape == (len(frame.links),)
    for name in FIELD_NAMES:
        grid = frame.fields[name]
        assert np.isfinite(grid).all() and grid.min() >= 0 and grid.max() <= 1


@fuzz(60)
@given(st.lists(actions, min_size=1, max_size=12))
def test_any_story_keeps_the_world_well_formed(script: list[tuple[str, object]]) -> None:
    seeds = {k: demo_seed(k, 6 + 4 * k) for k in (1, 2, 3)}
    mux = NodeMux(Kernel(seeds[1], grid=(12, 20)))
    params = {"nodes.silence_s": 0.5, "nodes.fade_s": 0.2, "nodes.max_joined": 2}
    for action, argument in script:
        incoming: list[Event] = []
        steps = 1
        if action == "events":
            incoming = argument  # type: ignore[assignment]
        elif action == "reading":
            values = dict(argument)  # type: ignore[call-overload]
            mux.offer("osc", values.pop("node"), values)
        elif action == "reseed":
            mux.reseed(seeds[argument], transition_s=0.5)  # type: ignore[index]
        else:
            steps = argument  # type: ignore[assignment]
        for index in range(steps):
            frame = mux.step(1 / 60, incoming if index == 0 else (), params)
            well_formed(frame)
    assert mux.joined <= 2
