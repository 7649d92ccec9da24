"""The effect chain through the engine and the command line: a show's acts bring their [[effect]]
entries with the preset morph, commands from OSC reach the chain in the engine's step, and
``myco isf list`` / ``myco render --effect`` do what they say, measured on the pixels."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from installation.core.events import CommandInput, Event, EventKind, ParamInput
from installation.engine import Engine
from installation.nodes.codec import decode_osc
from installation.registry import build_bank

SHADERS = Path(__file__).parent / "isf_effects"
ROOT = Path(__file__).parent.parent


def test_an_act_brings_its_effects_with_the_morph_and_takes_them_away() -> None:
    engine = Engine.for_show("kai-festival", bank=build_bank())
    assert engine.effects.slots == ()
    engine.player.jump(1)  # "Clusters feeding on poison": a toxic shimmer over the picture, 10 s transition
    engine.advance(5.0)
    slot = engine.effects.slots[0]
    assert (slot.name, slot.filter, slot.events) == ("toxic_shimmer", True, {"jolt": EventKind.TOXIN_CLUSTER})
    assert 0.45 < slot.level < 0.55  # half way through the act's crossfade
    # the amount, from the effect's default 0.5 to the preset's, is half way there too
    preset = tomllib.loads((ROOT / "presets" / "kai-2-poison-clusters.toml").read_text())
    amount = next(e for e in preset["effect"] if e["file"] == "toxic-shimmer")["params"]["amount"]
    assert amount != 0.5
    halfway = (0.5 + amount) / 2
    assert abs(engine.bank.get("isf.toxic_shimmer.amount") - halfway) < 0.1 * abs(0.5 - amount)
    engine.advance(6.0)
    assert engine.effects.slots[0].level == 1.0 and engine.bank.get("isf.toxic_shimmer.amount") == amount
    engine.player.jump(2)  # an act without effects: it fades out, and its parameters go with it
    engine.advance(12.0)
    assert engine.effects.slots == () and "isf.toxic_shimmer.amount" not in engine.bank


def test_effect_commands_from_osc_are_carried_out_in_the_engines_step_and_stay_over_acts() -> None:
    engine = Engine.for_show("elara-mural", bank=build_bank(), isf_dirs=[SHADERS])
    for address, argument in (("/myco/command/effect_add", "dim=scale"), ("/myco/command/effect_add", "invert")):
        decoded = decode_osc(address, [argument])
        assert isinstance(decoded, CommandInput)
        engine.inputs.put(decoded)
    engine.inputs.put(CommandInput("effect_bypass", "dim on", "osc"))
    engine.inputs.put(CommandInput("effect_add", "no-such-file", "osc"))
    engine.step()
    assert [(s.name, s.bypass) for s in engine.effects.slots] == [("dim", True), ("invert", False)]
    assert engine.bank.get("isf.dim.Gain") == 0.5
    assert any("effect_add no-such-file from osc: no ISF file 'no-such-file'" in message
               for _, message in engine.errors)
    engine.inputs.put(CommandInput("effect_move", "invert 0", "osc"))
    engine.player.jump(1)  # the next act's preset brings its own effect; the ones added live stay, over it
    engine.advance(8.0)
    assert [s.name for s in engine.effects.slots] == ["interference", "invert", "dim"]
    engine.inputs.put(Event(EventKind.INTERFERENCE))
    assert engine.step().events[0].kind is EventKind.INTERFERENCE  # what the effect's jolt is bound to


def test_myco_isf_list_prints_name_kind_category_and_credit(tmp_path: Path) -> None:
    (tmp_path / "bad header.fs").write_text('/*{ "INPUTS": 3 }*/ void main() {}')
    (tmp_path / "invert.fs").write_text((SHADERS / "invert.fs").read_text().replace("Myco tests", "Someone Else"))
    result = subprocess.run([sys.executable, "-m", "installation", "isf", "list", "--isf-dir", str(tmp_path),
                             "--isf-dir", str(SHADERS)], capture_output=True, text=True, timeout=60, cwd=ROOT)
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert result.stdout.split()[:5] == ["NAME", "KIND", "CATEGORY", "CREDIT", "FILE"]
    assert rows["invert"].split()[1:4] == ["filter", "Test", "Someone"]  # the first folder's copy wins
    assert rows["invert"].endswith(str(tmp_path / "invert.fs"))
    assert rows["ramp"].split()[1] == "generator"
    assert rows["spore-haze"].split()[1:5] == ["filter", "Blur,", "Glow,", "Myco"]  # the shipped ones
    assert rows["bad"].split()[2] == "broken"  # "bad header": a name with a space
    assert f"{tmp_path / 'bad header.fs'}:1: INPUTS: must be a list of inputs" in result.stderr
    assert result.returncode == 1  # a broken file is worth a status


def render(folder: Path, *extra: str) -> np.ndarray:
    subprocess.run([sys.executable, "-m", "installation", "render", "--show", "kai-festival", "--seconds", "0.04",
                    "--fps", "25", "--size", "160x90", "--quality", "low", "--png", str(folder), "--no-progress",
                    *extra], check=True, timeout=300, cwd=ROOT)
    return np.asarray(Image.open(folder / "frame_00000.png"), np.int16)


@pytest.mark.usefixtures("x_display")
def test_myco_render_effect_changes_the_picture_as_the_effect_says(tmp_path: Path) -> None:
    plain = render(tmp_path / "plain")
    inverted = render(tmp_path / "inverted", "--effect", str(SHADERS / "invert.fs"))
    assert plain.std() > 5  # an organism, not a blank frame
    assert np.abs(inverted - (255 - plain)).max() <= 1
    both = render(tmp_path / "both", "--effect", str(SHADERS / "invert.fs"), "--isf-dir", str(SHADERS),
                  "--effect", "scale")
    assert np.abs(both - (255 - plain) * 0.5).max() <= 1.5  # in the order given


def test_a_headless_render_hears_the_show_as_the_offline_synth_plays_it() -> None:
    """OfflineSound, fed step by step, holds the scope of the very samples render_stream makes of
    the same frames (computed here independently, in one go)."""
    from installation.render.sound import OfflineSound
    from installation.synth.analysis import FFT_SIZE, scope_of
    from installation.synth.offline import render_stream

    engine = Engine.for_show("kai-festival", bank=build_bank())
    params = engine.bank.snapshot()
    frames = engine.advance(2.0)
    sound = OfflineSound(engine.dt)
    for frame in frames:
        sound.push(frame, params)
    heard = sound.scope()
    made = (round(len(frames) * engine.dt * 48000) // 256) * 256
    samples = render_stream(iter(frames), params, engine.dt, made / 48000)
    expected = scope_of(samples[-FFT_SIZE:], 48000)
    assert np.abs(samples).max() > 0.01  # the show makes sound
    np.testing.assert_allclose(heard["waveform"], expected.wave, atol=1e-6)
    np.testing.assert_allclose(heard["spectrum"], expected.spectrum, atol=1e-6)


def test_myco_check_reports_what_a_presets_effects_would_report_when_played(tmp_path: Path) -> None:
    from installation.checks import check_file

    path = tmp_path / "bad.toml"
    path.write_text("""[preset]
title = "Bad"
seed = "kai-city"
look = "festival"

[[effect]]
file = "toxic-shimmer"
params = { amont = 0.4, split = "wide" }

[[effect]]
file = "nowhere"
""")
    problems = [str(problem) for problem in check_file(path)]
    assert problems[0].startswith(f"{path}:6: effect[0].params.amont: toxic-shimmer.fs has no such input (its inputs: "
                                  "amount, split, speed, sour, jolt)")
    assert problems[1] == f"{path}:6: effect[0].params.split: expected a number, got 'wide'"
    assert problems[2].startswith(f"{path}:10: effect[1].file: no ISF file 'nowhere' in ")
    assert len(problems) == 3
    for shipped in ("kai-2-poison-clusters", "kai-5-renaissance", "elara-2-unveiled"):
        assert check_file(ROOT / "presets" / f"{shipped}.toml") == []


def test_a_snapshot_brings_back_the_effects_added_live_with_their_settings_and_inputs() -> None:
    engine = Engine.for_show("kai-festival", bank=build_bank(), isf_dirs=[SHADERS])
    for command, argument in (("effect_add", "dim=scale"), ("effect_set", "dim opacity=0.3"),
                              ("effect_add", "ramp"), ("effect_set", "ramp blend=multiply mask=below"),
                              ("effect_bypass", "dim on")):
        engine.inputs.put(CommandInput(command, argument, "osc"))
    engine.inputs.put(ParamInput("isf.dim.Gain", 0.125, "osc"))
    engine.advance(1.0)
    snapshot = engine.save_snapshot()
    again = Engine.for_show("kai-festival", bank=build_bank(), isf_dirs=[SHADERS])
    again.restore(snapshot)
    assert [(s.name, s.bypass, s.opacity, s.blend, s.mask, s.level) for s in again.effects.slots] == [
        ("dim", True, 0.3, "normal", "", 0.0), ("ramp", False, 1.0, "multiply", "below", 1.0)]
    assert again.bank.get("isf.dim.Gain") == 0.125
