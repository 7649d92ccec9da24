"""The A/B crossfader through the engine: the morph at the fader, loads off air, touches, show acts."""

from __future__ import annotations

from pathlib import Path

import pytest

from installation.core.commands import CROSSFADER, LIVE_PARAMS, Command
from installation.core.decks import Deck
from installation.core.errors import LoadError
from installation.core.events import CommandInput, ParamInput
from installation.core.morph import morph
from installation.core.params import Value
from installation.core.shows import ShowPlayer, load_show
from installation.engine import Engine, default_world
from installation.registry import build_bank

A, B = "kai-1-living-city", "elara-3-confrontation"  # other seeds, other looks


def fader_at(engine: Engine, position: float, source: str = "osc") -> None:
    engine.inputs.put(ParamInput(CROSSFADER, position, source))
    engine.step()


def loaded(a: str = A, b: str = B) -> tuple[Engine, dict[str, Value], dict[str, Value]]:
    engine = Engine.for_show("kai-festival", bank=build_bank())
    engine.recall(a, crossfade_s=0.0)
    engine.step()
    engine.inputs.put(CommandInput(Command.DECK_LOAD, b, "osc"))
    engine.step()
    specs = engine.specs()
    return engine, engine.presets.load(a, specs).resolved(specs), engine.presets.load(b, specs).resolved(specs)


def test_the_fader_at_its_midpoint_is_the_morph_at_one_half_for_every_parameter() -> None:
    engine, a, b = loaded()
    fader_at(engine, 0.5)
    expected = morph(engine.specs(), a, b, 0.5)
    assert len(expected) == len(engine.bank) - len(LIVE_PARAMS), "every parameter but the live state"
    differing = [name for name in expected if a[name] != b[name]]
    assert len(differing) > 10, "the two presets differ in many parameters"
    for name, value in expected.items():
        got = engine.bank.get(name)
        if isinstance(value, tuple):
            assert got == pytest.approx(value, abs=1e-9), name
        else:
            assert got == value, name
    assert engine.look_mix() == ("festival", "mural", 0.5)
    assert engine.decks.status() == {"a": A, "b": B, "crossfader": 0.5}  # /status "decks"
    assert engine.seed.name == "elara-unveiled", "the seed switches at the midpoint, as enums do"
    assert engine.current_preset().name == B
    fader_at(engine, 0.49)
    assert engine.seed.name == "kai-city" and engine.current_preset().name == A


def test_loading_into_the_off_air_deck_leaves_what_is_on_air_alone_and_a_load_between_is_refused() -> None:
    engine = Engine.for_show("kai-festival", bank=build_bank())
    engine.inputs.put(ParamInput("sim.dieback", 0.7, "midi"))  # a performer's tweak
    engine.advance(2.0)
    before = dict(engine.bank.snapshot())
    look, seed = engine.look_mix(), engine.seed.name
    engine.inputs.put(CommandInput(Command.DECK_LOAD, B, "osc"))
    engine.advance(0.5)
    assert dict(engine.bank.snapshot()) == before
    assert (engine.look_mix(), engine.seed.name) == (look, seed)
    assert engine.decks.presets[Deck.B].name == B
    assert engine.decks.values[Deck.A]["sim.dieback"] == 0.7, "deck A took the tweak on air"
    fader_at(engine, 0.001)
    assert engine.bank.get("sim.dieback") == pytest.approx(0.7, abs=0.001), "the fade starts from the picture"
    errors = len(engine.errors)
    fader_at(engine, 0.3)
    engine.inputs.put(CommandInput(Command.DECK_LOAD, "kai-3-surge", "osc"))
    engine.step()
    assert len(engine.errors) == errors + 1 and "between the decks" in engine.errors[-1][1]
    assert engine.decks.presets[Deck.A].name == A and engine.decks.presets[Deck.B].name == B


def test_a_parameter_touched_during_a_fade_holds_until_the_fader_reaches_an_end() -> None:
    engine, a, b = loaded()
    touched, followed = "sim.dieback", "sim.spike_rate"
    assert a[touched] != b[touched] and a[followed] != b[followed]
    fader_at(engine, 0.3)
    engine.inputs.put(ParamInput(touched, 0.4, "midi"))
    engine.step()
    for position in (0.7, 1.0, 0.6):
        fader_at(engine, position)
        assert engine.bank.get(followed) == pytest.approx(morph(engine.specs(), a, b, position)[followed])
        if position != 0.6:
            assert engine.bank.target(touched) == 0.4, "held while the fader was between the ends"
    # at the end the touch became part of deck B (nothing was loaded): it follows the fader again
    assert engine.bank.get(touched) == pytest.approx(morph(engine.specs(), a, b, 0.6)[touched])


def test_a_recall_puts_its_preset_on_the_deck_nearer_the_fader_and_sends_the_fader_there() -> None:
    engine, _, _ = loaded()
    fader_at(engine, 0.8)
    engine.inputs.put(CommandInput(Command.PRESET, "kai-3-surge", "ui"))
    engine.step()
    assert engine.bank.get(CROSSFADER) == 1.0
    assert engine.decks.presets[Deck.B].name == "kai-3-surge" and engine.decks.presets[Deck.A].name == A


SHOW = """
[show]
title = "Two decks"
loop = true

[[acts]]
title = "One"
preset = "{a}"
duration = 4
transition = 0

[[acts]]
title = "Two"
preset = "{b}"
duration = 4
transition = 2
transition_by = "crossfader"

[[acts]]
title = "Three"
preset = "kai-3-surge"
duration = 4
transition = 1
transition_by = "crossfader"
"""


def test_a_show_act_with_the_crossfader_transition_loads_the_off_air_deck_and_moves_the_fader(tmp_path: Path) -> None:
    path = tmp_path / "decks.toml"
    path.write_text(SHOW.format(a=A, b=B))
    bank = build_bank()
    engine = Engine(ShowPlayer(load_show(path)), default_world, bank=bank)
    specs = engine.specs()
    a, b = (engine.presets.load(name, specs).resolved(specs) for name in (A, B))
    while engine.player.act_index == 0:
        engine.step()
    assert engine.decks.presets[Deck.B].name == B
    positions = [bank.number(CROSSFADER)]  # the fader's first step is in the step of the act change
    for _ in range(119):
        engine.step()
        position = bank.number(CROSSFADER)
        positions.append(position)
        if abs(position - 0.5) < 1e-9:
            assert engine.look_mix() == ("festival", "mural", 0.5)
            assert bank.get("sim.dieback") == pytest.approx(morph(specs, a, b, 0.5)["sim.dieback"])
    assert positions == sorted(positions) and positions[-1] == 1.0
    assert positions[59] == pytest.approx(0.5) and positions[0] == pytest.approx(1 / 120)
    assert positions[-2] < 1.0, "two seconds of steps, exactly"
    assert engine.current_preset().name == B and engine.seed.name == "elara-unveiled"
    while engine.player.act_index == 1:  # act three: loaded into deck A, the fader travels back in one second
        engine.step()
    assert engine.player.act_index == 2 and engine.decks.presets[Deck.A].name == "kai-3-surge"
    engine.advance(1.0)
    assert bank.number(CROSSFADER) == 0.0 and engine.current_preset().name == "kai-3-surge"


def test_the_performer_takes_the_fader_from_the_show(tmp_path: Path) -> None:
    path = tmp_path / "decks.toml"
    path.write_text(SHOW.format(a=A, b=B))
    engine = Engine(ShowPlayer(load_show(path)), default_world, bank=build_bank())
    engine.advance(4.5)
    fader_at(engine, 0.2, "midi")
    engine.advance(2.0)
    assert engine.bank.number(CROSSFADER) == 0.2 and engine.decks.move is None


def test_an_unknown_transition_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(SHOW.format(a=A, b=B).replace('transition_by = "crossfader"\n\n[[acts]]',
                                                   'transition_by = "wipe"\n\n[[acts]]'))
    with pytest.raises(LoadError) as error:
        load_show(path)
    assert ("bad.toml:17: acts[1].transition_by: unknown transition 'wipe' (one of morph, crossfader)"
            in str(error.value))
