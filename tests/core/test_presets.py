"""Presets: errors with file, line and key; atomic saves with backups; comments survive; morph."""

from __future__ import annotations

from pathlib import Path

import pytest

from installation.core.errors import LoadError
from installation.core.morph import mix_colors, morph, srgb_to_oklab
from installation.core.params import ParamBank, color_param, enum_param, float_param, int_param
from installation.core.paths import UnsafePathError, UserDirs
from installation.core.presets import PresetLibrary, load_preset
from installation.core.tomlsource import TomlSource

SPECS = {spec.name: spec for spec in (
    float_param("sim.growth", 0.5, 0.0, 2.0),
    int_param("render.agents", 1000, 10, 100000),
    enum_param("synth.scale", "major", ("major", "lydian", "minor")),
    color_param("render.tint", "#000000"),
)}

ARTIST_TEXT = """\
# My favourite look: keep this comment!
[preset]
title = "Night"
seed = "kai-city"
look = "festival"

[params]
# growth slow, like moss
"sim.growth" = 0.25
synth.scale = "lydian"   # nested form, inline comment
"render.tint" = "#00ffcc"
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text)
    return path


def test_every_error_names_file_line_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, "broken", ARTIST_TEXT.replace('"sim.growth" = 0.25', '"sim.growth" = 9.0')
                 .replace('look = "festival"', 'look = "festival"\nmood = "odd"')
                 .replace('"render.tint" = "#00ffcc"', '"render.tint" = "teal"\n"sim.nothing" = 1'))
    with pytest.raises(LoadError) as caught:
        load_preset(path, SPECS)
    lines = str(caught.value).splitlines()
    assert f"{path}:6: preset.mood: unknown key" in lines[0]
    assert any(line.startswith(f"{path}:10: params.sim.growth: 9.0 above maximum 2") for line in lines)
    assert any(line.startswith(f"{path}:12: params.render.tint: color 'teal'") for line in lines)
    assert any(line.startswith(f"{path}:13: params.sim.nothing: unknown parameter") for line in lines)


def test_syntax_errors_name_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "syntax", "[preset]\ntitle = \"x\"\nseed = kai\n")
    with pytest.raises(LoadError) as caught:
        load_preset(path)
    assert str(caught.value).startswith(f"{path}:3: -: invalid TOML")


def test_save_is_atomic_keeps_backups_and_comments_and_round_trips(tmp_path: Path) -> None:
    user = UserDirs.default().ensure()
    shipped = write(tmp_path / "shipped", "night", ARTIST_TEXT)
    library = PresetLibrary(user, [user.presets, shipped.parent])
    preset = library.load("night", SPECS)
    assert preset.params["synth.scale"] == "lydian"
    edited = preset.with_params({"sim.growth": 1.5, "render.tint": (1.0, 0.5, 0.0), "render.agents": 5000})
    saved = library.save(edited, SPECS)
    assert saved.parent == user.presets
    text = saved.read_text()
    assert "# My favourite look: keep this comment!" in text
    assert "# growth slow, like moss" in text
    assert "# nested form, inline comment" in text
    assert '"render.tint" = "#ff8000"' in text
    again = library.load("night", SPECS)
    assert again.params == {"sim.growth": 1.5, "synth.scale": "lydian", "render.tint": "#ff8000",
                            "render.agents": 5000}
    # Saving the loaded preset again changes nothing: load -> save -> load is stable.
    library.save(again, SPECS)
    assert saved.read_text() == text
    backups = sorted(p.name for p in user.presets.glob(".night.toml.*"))
    assert backups == [".night.toml.1"]
    for step in range(7):
        library.save(again.with_params({"sim.growth": step / 10}), SPECS)
    assert len(list(user.presets.glob(".night.toml.*"))) == 5
    assert not list(user.presets.glob("*.tmp"))


def test_a_save_that_would_not_load_writes_nothing(tmp_path: Path) -> None:
    user = UserDirs.default().ensure()
    library = PresetLibrary(user, [user.presets, write(tmp_path / "s", "night", ARTIST_TEXT).parent])
    preset = library.load("night", SPECS)
    with pytest.raises(LoadError):
        library.save(preset.with_params({"sim.growth": "fast"}), SPECS)
    assert not (user.presets / "night.toml").exists()


@pytest.mark.parametrize("name", ["../escape", "/etc/passwd", "a/b", "..", "", "UPPER", "x" * 80, "a\x00b", "name\n"])
def test_no_name_can_write_outside_the_preset_folder(tmp_path: Path, name: str) -> None:
    user = UserDirs.default().ensure()
    library = PresetLibrary(user, [user.presets, write(tmp_path / "s", "night", ARTIST_TEXT).parent])
    with pytest.raises(UnsafePathError):
        library.save(library.load("night", SPECS), SPECS, name=name)
    with pytest.raises(UnsafePathError):
        library.path(name)


def test_user_presets_override_shipped_ones(tmp_path: Path) -> None:
    user = UserDirs.default().ensure()
    shipped = write(tmp_path / "s", "night", ARTIST_TEXT)
    write(user.presets, "night", ARTIST_TEXT.replace('title = "Night"', 'title = "Mine"'))
    library = PresetLibrary(user, [user.presets, shipped.parent])
    assert library.load("night").title == "Mine"
    assert library.names() == ["night"]


def test_morph_numbers_colors_and_enums() -> None:
    a = {"sim.growth": 0.0, "render.agents": 10, "synth.scale": "major", "render.tint": (0.0, 0.8, 0.7)}
    b = {"sim.growth": 2.0, "render.agents": 20, "synth.scale": "minor", "render.tint": (1.0, 0.6, 0.1)}
    quarter = morph(SPECS, a, b, 0.25)
    assert quarter["sim.growth"] == pytest.approx(0.5)
    assert quarter["render.agents"] == 12
    assert quarter["synth.scale"] == "major"
    assert morph(SPECS, a, b, 0.5)["synth.scale"] == "minor"
    assert morph(SPECS, a, b, 0.0) == a | {"render.tint": pytest.approx(a["render.tint"], abs=1e-6)}
    # Colors travel through OKLab: lightness moves evenly, unlike a plain RGB average.
    middle = mix_colors(a["render.tint"], b["render.tint"], 0.5)  # type: ignore[arg-type]
    lightness = [srgb_to_oklab(c)[0] for c in (a["render.tint"], middle, b["render.tint"])]  # type: ignore[arg-type]
    assert lightness[1] == pytest.approx((lightness[0] + lightness[2]) / 2, abs=1e-6)


def test_resolved_preset_applies_through_the_bank() -> None:
    bank = ParamBank()
    bank.register_all(SPECS.values())
    source = TomlSource.parse(ARTIST_TEXT, Path("night.toml"))
    from installation.core.presets import parse_preset

    preset = parse_preset(source, SPECS)
    bank.set_many(preset.resolved(bank_specs := {s.name: s for s in bank.specs()}), "preset")
    assert bank.get("sim.growth") == 0.25
    assert bank.get("render.agents") == bank_specs["render.agents"].default
    assert bank.source("synth.scale") == "preset"
