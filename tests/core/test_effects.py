"""The effect chain's pure side: presets' [[effect]] entries, parameters, crossfades, reloads, commands."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from installation.core.commands import Command
from installation.core.effects import FADE_S, POLL_S, EffectChain, available, default_name, find_isf
from installation.core.errors import LoadError
from installation.core.events import CommandInput, EventKind
from installation.core.params import ParamBank
from installation.core.presets import PresetLibrary, load_preset, parse_preset, render_preset
from installation.core.tomlsource import TomlSource
from installation.nodes.codec import decode_osc

FILTER = """/*{"ISFVSN": "2", "CATEGORIES": ["Test"], "INPUTS": [
  {"NAME": "inputImage", "TYPE": "image"},
  {"NAME": "Amount", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0, "MAX": 1},
  {"NAME": "center", "TYPE": "point2D", "DEFAULT": [0.5, 0.5], "MIN": [0, 0], "MAX": [1, 1]},
  {"NAME": "flash", "TYPE": "event"}
]}*/
void main() { gl_FragColor = IMG_THIS_PIXEL(inputImage) * Amount; }
"""
GENERATOR = """/*{"ISFVSN": "2", "INPUTS": [{"NAME": "level", "TYPE": "float", "DEFAULT": 1.0, "MIN": 0, "MAX": 1}]}*/
void main() { gl_FragColor = vec4(level); }
"""
STEP = 1 / 60


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    isf = tmp_path / "isf"
    isf.mkdir()
    (isf / "Dim Glow.fs").write_text(FILTER)
    (isf / "veil.fs").write_text(GENERATOR)
    return isf


def chain_in(folder: Path) -> tuple[EffectChain, ParamBank, list[str]]:
    bank = ParamBank()
    reports: list[str] = []
    return EffectChain(bank, [folder], reports.append), bank, reports


def run(chain: EffectChain, seconds: float) -> None:
    for _ in range(round(seconds / STEP)):
        chain.step(STEP)


def test_files_by_name_and_path(folder: Path) -> None:
    assert list(available([folder])) == ["Dim Glow", "veil"]
    assert find_isf("veil", [folder]) == folder / "veil.fs"
    assert find_isf("isf/veil.fs", [], base=folder.parent) == folder / "veil.fs"
    assert default_name("Dim Glow.fs") == "dim_glow" and default_name("3d tunnel.fs") == "fx_3d_tunnel"
    with pytest.raises(ValueError, match="no ISF file 'nothing'"):
        find_isf("nothing", [folder])


def test_add_declares_the_inputs_and_fades_in(folder: Path) -> None:
    chain, bank, _ = chain_in(folder)
    name = chain.add("Dim Glow")
    assert name == "dim_glow"
    assert {"isf.dim_glow.Amount", "isf.dim_glow.center_x", "isf.dim_glow.center_y",
            "isf.dim_glow.flash"} <= set(bank.names())
    slot = chain.slots[0]
    assert slot.filter and slot.level == 0.0
    run(chain, FADE_S / 2)
    assert chain.slots[0].level == pytest.approx(0.5)
    run(chain, FADE_S / 2)
    assert chain.slots[0].level == pytest.approx(1.0)
    assert chain.add("Dim Glow") == "dim_glow_2"  # a second instance gets a name of its own
    assert not chain.slots[-1].filter or chain.slots[-1].name == "dim_glow_2"


def test_bypass_and_remove_fade_out_and_remove_takes_the_parameters(folder: Path) -> None:
    chain, bank, _ = chain_in(folder)
    chain.add("veil")
    run(chain, 1.0)
    chain.bypass("veil")
    run(chain, 0.15)  # 9 of the 30 steps
    assert chain.slots[0].level == pytest.approx(0.7)
    run(chain, FADE_S)
    assert chain.slots[0].level == 0.0 and chain.slots[0].bypass  # kept, silent
    chain.bypass("veil", False)
    run(chain, FADE_S)
    chain.remove("veil")
    run(chain, FADE_S / 2)
    assert chain.slots[0].leaving and "isf.veil.level" in bank
    run(chain, FADE_S)
    assert chain.slots == () and "isf.veil.level" not in bank


def test_move_crossfades_the_old_place_into_the_new(folder: Path) -> None:
    chain, _, _ = chain_in(folder)
    chain.add("Dim Glow")
    chain.add("veil")
    run(chain, 1.0)
    chain.move("veil", 0)
    run(chain, FADE_S / 2)
    assert [(s.name, s.leaving, round(s.level, 3)) for s in chain.slots] == [
        ("veil", False, 0.5), ("dim_glow", False, 1.0), ("veil", True, 0.5)]
    run(chain, FADE_S)
    assert chain.names() == ["veil", "dim_glow"] and len(chain.slots) == 2


def test_commands_from_osc_reach_the_chain(folder: Path) -> None:
    chain, _, _ = chain_in(folder)
    decoded = decode_osc("/myco/command/effect_add", ["glow=Dim Glow"])
    assert isinstance(decoded, CommandInput)
    chain.command(decoded.command, decoded.argument)
    chain.command(Command.EFFECT_ADD, "veil")
    chain.command(Command.EFFECT_BYPASS, "glow on")
    assert chain.slots[0].bypass
    chain.command(Command.EFFECT_SET, "veil blend=screen opacity=0.4 mask=below")
    assert (chain.slots[1].blend, chain.slots[1].opacity, chain.slots[1].mask) == ("screen", 0.4, "below")
    chain.command(Command.EFFECT_SET, "veil mask=none")
    assert chain.slots[1].mask == ""
    with pytest.raises(ValueError, match="blend='burn'"):
        chain.command(Command.EFFECT_SET, "veil blend=burn")
    chain.command(Command.EFFECT_MOVE, "veil 0")
    chain.command(Command.EFFECT_REMOVE, "glow")
    assert [s.name for s in chain.slots if not s.leaving] == ["veil"]
    with pytest.raises(ValueError, match="no effect called 'nope'"):
        chain.command(Command.EFFECT_REMOVE, "nope")
    with pytest.raises(ValueError, match="needs an effect"):
        CommandInput(Command.EFFECT_REMOVE, "")


def test_hot_reload_declares_new_inputs_and_keeps_the_last_good(folder: Path) -> None:
    chain, bank, reports = chain_in(folder)
    chain.add("veil")
    path = folder / "veil.fs"
    path.write_text(GENERATOR.replace('"INPUTS": [', '"INPUTS": [{"NAME": "grain", "TYPE": "bool"}, '))
    os.utime(path, (1e9, 1e9))
    run(chain, POLL_S + STEP)
    assert chain.slots[0].version == 1 and "isf.veil.grain" in bank
    path.write_text("/*{ broken json */ void main() {}")
    os.utime(path, (2e9, 2e9))
    run(chain, POLL_S + STEP)
    assert chain.slots[0].version == 1 and chain.slots[0].shader.input("grain") is not None
    assert len(reports) == 1 and "veil.fs:" in reports[0]
    run(chain, 2.0)
    assert len(reports) == 1  # reported once, not every poll


PRESET = """[preset]
title = "Spores"
seed = "kai-city"
look = "festival"

[params]
"sim.x" = 1

# the haze over everything
[[effect]]
file = "Dim Glow"
name = "haze"
params = { Amount = 0.25, center = [0.2, 0.8] }
events = { flash = "spike_burst" }

[[effect]]
file = "veil"
blend = "screen"
opacity = 0.5
"""


def test_a_preset_with_effects_loads_applies_and_saves_in_place(folder: Path, tmp_path: Path) -> None:
    path = tmp_path / "presets" / "spores.toml"
    path.parent.mkdir()
    path.write_text(PRESET)
    preset = load_preset(path)
    haze, veil = preset.effects
    assert (haze.name, haze.events, veil.name, veil.blend, veil.opacity) == (
        "haze", {"flash": EventKind.SPIKE_BURST}, "veil", "screen", 0.5)
    chain, _, reports = chain_in(folder)
    values = chain.apply(preset.effects, 0.0, preset.path)
    assert values == {"isf.haze.Amount": 0.25, "isf.haze.center_x": 0.2, "isf.haze.center_y": 0.8}
    assert [(s.name, s.level, s.blend) for s in chain.slots] == [("haze", 1.0, "normal"), ("veil", 1.0, "screen")]
    assert not reports
    # a live edit of an input is saved in the effect's own table, the artist's comment kept
    library = PresetLibrary(None, [path.parent])
    edited = preset.with_params({"isf.haze.Amount": 0.75})
    from installation.core.presets import render_preset

    text = render_preset(edited, {}, TomlSource.read(path) and __import__("tomlkit").parse(PRESET))
    assert "# the haze over everything" in text and "Amount = 0.75" in text
    again = parse_preset(TomlSource.parse(text, path))
    assert again.effects[0].params["Amount"] == 0.75 and again.effects[1] == veil
    assert library.names() == ["spores"]


def test_applying_another_preset_keeps_what_stays_and_fades_the_rest(folder: Path) -> None:
    chain, _, _ = chain_in(folder)
    first = parse_preset(TomlSource.parse(PRESET, Path("a.toml")))
    chain.apply(first.effects, 0.0, None)
    kept = chain.slots[0]
    second = parse_preset(TomlSource.parse(PRESET.split("[[effect]]\nfile = \"veil\"")[0], Path("b.toml")))
    chain.apply(second.effects, 2.0, None)
    assert [(s.name, s.leaving) for s in chain.slots] == [("veil", True), ("haze", False)]
    assert chain.slots[1].key == kept.key  # the same effect, never restarted
    run(chain, 2.0)
    assert chain.names() == ["haze"] and len(chain.slots) == 1


@pytest.mark.parametrize(("entry", "reason"), [
    ('file = "veil"\nblend = "burn"', "effect[0].blend: 'burn' is not one of normal, add, screen, multiply, overlay"),
    ('file = "veil"\nevents = { x = "quake" }', "effect[0].events.x: 'quake' is not an event kind"),
    ('file = "veil"\n[[effect]]\nfile = "veil"', "effect[1].name: 'veil' is already an effect of this preset"),
    ('file = "veil"\nopacity = 2', "effect[0].opacity: 2 is outside [0, 1]"),
    ('file = "veil"\nmask = "lumen"', "effect[0].mask: 'lumen' is not one of"),
])
def test_bad_effect_entries_name_file_line_and_key(entry: str, reason: str) -> None:
    text = PRESET.split("# the haze")[0] + "[[effect]]\n" + entry + "\n"
    with pytest.raises(LoadError) as caught:
        parse_preset(TomlSource.parse(text, Path("bad.toml")))
    assert "bad.toml:" in str(caught.value) and reason in str(caught.value)


def test_an_unusable_file_in_a_preset_is_reported_and_left_out(folder: Path) -> None:
    chain, _, reports = chain_in(folder)
    preset = parse_preset(TomlSource.parse(PRESET.replace('"Dim Glow"', '"missing"'), Path("p.toml")))
    chain.apply(preset.effects, 0.0, Path("p.toml"))
    assert chain.names() == ["veil"]
    assert reports and reports[0].startswith("p.toml:10: effect[0].file: no ISF file 'missing'")


def test_params_of_unknown_inputs_are_reported(folder: Path) -> None:
    chain, _, reports = chain_in(folder)
    preset = parse_preset(TomlSource.parse(PRESET.replace("Amount = 0.25", "Amont = 0.25"), Path("p.toml")))
    chain.apply(preset.effects, 0.0, Path("p.toml"))
    assert any("effect[0].params.Amont: Dim Glow.fs has no such input" in r for r in reports)


def test_the_running_chain_saves_as_the_presets_entries(folder: Path, tmp_path: Path) -> None:
    """Saving keeps the chain as it runs: the preset's entries as written (with their changed
    settings), an effect added live with its inputs' values, one removed live gone."""
    preset = parse_preset(TomlSource.parse(PRESET, tmp_path / "spores.toml"))
    chain, bank, reports = chain_in(folder)
    bank.set_many(chain.apply(preset.effects, 0.0, preset.path), "preset", immediate=True)
    chain.add("Dim Glow", "glow")
    chain.add(str(folder / "veil.fs"), "veil_2")
    run(chain, FADE_S)
    bank.set_many({"isf.glow.Amount": 0.9, "isf.glow.center_x": 0.1}, "ui", immediate=True)
    chain.remove("veil")
    chain.bypass("haze", True)
    entries = chain.entries(preset.effects, bank.snapshot())
    assert [(e.name, e.file, e.bypass) for e in entries] == [
        ("haze", preset.effects[0].file, True), ("glow", "Dim Glow", False), ("veil_2", "veil", False)]
    assert entries[0].events == preset.effects[0].events and entries[0].params == preset.effects[0].params
    assert dict(entries[1].params) == {"Amount": 0.9, "center_x": 0.1}  # only what differs from the defaults
    text = render_preset(replace(preset, effects=entries), {})
    again = parse_preset(TomlSource.parse(text, tmp_path / "spores.toml"))
    fresh, _, _ = chain_in(folder)
    assert fresh.apply(again.effects, 0.0, again.path) == {
        "isf.haze.Amount": 0.25, "isf.haze.center_x": 0.2, "isf.haze.center_y": 0.8,
        "isf.glow.Amount": 0.9, "isf.glow.center_x": 0.1}
    assert fresh.names() == ["haze", "glow", "veil_2"] and not reports
    assert [item["name"] for item in chain.status()] == ["haze", "glow", "veil_2"]
    assert chain.status()[1] | {"level": 1.0} == {"name": "glow", "file": "Dim Glow.fs", "kind": "filter",
                                                 "bypass": False, "blend": "normal", "opacity": 1.0, "mask": "",
                                                 "level": 1.0, "live": True}


def test_an_event_input_is_momentary(folder: Path) -> None:
    from installation.core.effects import EVENT_HOLD_S

    chain, bank, _ = chain_in(folder)
    chain.add("Dim Glow", "glow")
    bank.set("isf.glow.flash", True, "osc", immediate=True)
    held = 0
    while bank.get("isf.glow.flash") is True and held < 100:
        chain.step(STEP)
        held += 1
    assert held == round(EVENT_HOLD_S / STEP)  # on for the hold, then let go: the next "on" fires again
    bank.set("isf.glow.flash", True, "osc", immediate=True)
    run(chain, EVENT_HOLD_S + STEP)
    assert bank.get("isf.glow.flash") is False
