"""The A/B crossfader through the engine's real inputs (oscsend into the OSC listener) and on GL."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from installation.core.commands import CROSSFADER
from installation.core.decks import Deck
from installation.core.morph import morph
from installation.engine import Engine
from installation.inputs.osc import OscListener
from installation.nodes.mux import NodeMux
from installation.registry import build_bank
from installation.render.offscreen import Offscreen
from installation.sim.defaults import demo_seed
from installation.sim.kernel import Kernel
from tests.test_osc_listener import oscsend
from tests.waiting import wait_for

A, B = "kai-1-living-city", "elara-3-confrontation"  # festival and mural, other seeds


@pytest.fixture
def engine() -> Engine:
    engine = Engine.for_show("kai-festival", bank=build_bank())
    engine.recall(A, crossfade_s=0.0)
    engine.step()
    return engine


@pytest.fixture
def osc(engine: Engine) -> Iterator[OscListener]:
    listener = OscListener(NodeMux(Kernel(demo_seed(51, 8), grid=(18, 32))), engine.inputs, port=0)
    listener.start()
    try:
        yield listener
    finally:
        listener.stop()


def step_until(engine: Engine, done: object, what: str) -> None:
    def stepped() -> bool:
        engine.step()
        return bool(done())  # type: ignore[operator]

    wait_for(stepped, 10, what)


def test_oscsend_loads_the_off_air_deck_and_fades_through_the_morph(engine: Engine, osc: OscListener) -> None:
    specs = engine.specs()
    a, b = (engine.presets.load(name, specs).resolved(specs) for name in (A, B))
    before = dict(engine.bank.snapshot())
    oscsend(osc.port, "/myco/command/deck_load", "s", B)
    step_until(engine, lambda: engine.decks.presets[Deck.B].name == B, "deck B loaded")
    assert dict(engine.bank.snapshot()) == before, "loading off air changes nothing on air"
    for position in (0.25, 0.5, 0.75, 1.0):
        oscsend(osc.port, f"/myco/param/{CROSSFADER}", "f", position)
        step_until(engine, lambda p=position: engine.bank.number(CROSSFADER) == p, f"the fader at {position}")
        expected = morph(specs, a, b, position)
        for name in ("sim.dieback", "sim.spike_rate", "synth.density", "synth.scale", "shader.mural.reveal"):
            assert engine.bank.get(name) == pytest.approx(expected[name]), (name, position)
    assert engine.current_preset().name == B and engine.seed.name == "elara-unveiled"
    assert engine.look_mix() == ("mural", "mural", 1.0)
    # deck A is off air now: the next preset goes there, and the fader comes back to it
    oscsend(osc.port, "/myco/command/deck_load", "s", "kai-3-surge")
    step_until(engine, lambda: engine.decks.presets[Deck.A].name == "kai-3-surge", "deck A loaded")
    assert engine.current_preset().name == B


def test_the_picture_at_the_fader_midpoint_is_the_mix_of_the_two_looks(engine: Engine, qt_session: object) -> None:
    engine.load_deck(B)
    engine.bank.set(CROSSFADER, 0.5, "osc")
    offscreen = Offscreen((192, 108), agents=4096, sim_height=108, seed=7)
    try:
        renderer = offscreen.renderer
        for _ in range(40):  # as the outputs do: the engine's frame, values, looks and seed
            frame = engine.step()
            renderer.follow(frame, engine.bank.snapshot(), engine.dt, engine.look_mix(), engine.seed)
        offscreen.make_current()
        assert engine.look_mix() == ("festival", "mural", 0.5)
        half = offscreen.snapshot().astype(np.float32)
        # the same state of the hyphae, composited with either look alone
        renderer.set_look_mix("festival", "festival", 1.0)
        festival = offscreen.snapshot().astype(np.float32)
        renderer.set_look_mix("mural", "mural", 1.0)
        mural = offscreen.snapshot().astype(np.float32)
        apart = np.abs(mural - festival).mean()
        assert apart > 5.0, "the two looks differ"
        to_festival, to_mural = np.abs(half - festival).mean(), np.abs(half - mural).mean()
        assert 0.2 * apart < to_festival < 0.8 * apart and 0.2 * apart < to_mural < 0.8 * apart
        # pixel by pixel the mix lies between the two looks (the filmic curve is monotonic)
        low, high = np.minimum(festival, mural), np.maximum(festival, mural)
        inside = ((half >= low - 6) & (half <= high + 6)).mean()
        assert inside > 0.97, inside
    finally:
        offscreen.close()
