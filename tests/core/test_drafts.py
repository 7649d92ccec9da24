"""Drafts of unsaved preset edits: where they live, what they hold, and a broken one set aside."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from installation.core.drafts import (
    changed_values,
    delete_draft,
    draft_path,
    read_draft,
    set_aside,
    when_text,
    write_draft,
)
from installation.core.errors import LoadError
from installation.core.params import color_param, enum_param, float_param, int_param
from installation.core.paths import UnsafePathError, UserDirs, resource_dir

SPECS = {spec.name: spec for spec in (
    float_param("sim.growth", 0.5, 0.0, 2.0),
    int_param("render.agents", 1000, 10, 100000),
    enum_param("synth.scale", "major", ("major", "lydian", "minor")),
    color_param("render.tint", "#000000"),
)}


@pytest.fixture
def user(tmp_path: Path) -> UserDirs:
    return UserDirs(tmp_path / "config", tmp_path / "presets", tmp_path / "logs", tmp_path / "state")


def test_a_draft_lives_in_the_state_folder_and_reads_back_exactly(user: UserDirs) -> None:
    values = {"sim.growth": 0.123456789, "render.agents": 2500, "synth.scale": "lydian",
              "render.tint": (0.25, 0.5, 1.0)}
    stamp = 1_746_565_443.5
    path = write_draft(user, "kai-1-living-city", values, now=stamp)
    assert path == (user.state / "drafts" / "kai-1-living-city.toml").resolve()
    assert resource_dir("presets") not in path.parents and user.presets not in path.parents
    text = path.read_text()
    assert "Unsaved edits to the preset kai-1-living-city" in text and 'preset = "kai-1-living-city"' in text
    draft = read_draft(user, "kai-1-living-city", SPECS)
    assert draft is not None
    assert draft.preset == "kai-1-living-city" and draft.saved_at == stamp
    assert dict(draft.values) == values  # floats to the last digit, ints as ints, colours as tuples
    unchecked = read_draft(user, "kai-1-living-city")  # without specs: the plain values
    assert unchecked is not None and unchecked.values["render.tint"] == (0.25, 0.5, 1.0)
    assert not list(path.parent.glob(".*.tmp")), "the atomic write left its temporary file"
    assert delete_draft(user, "kai-1-living-city") and not path.exists()
    assert read_draft(user, "kai-1-living-city", SPECS) is None
    assert not delete_draft(user, "kai-1-living-city")


def test_names_from_outside_cannot_leave_the_drafts_folder(user: UserDirs) -> None:
    for name in ("../presets/x", "/etc/passwd", "Upper", "", "a/b"):
        with pytest.raises(UnsafePathError):
            write_draft(user, name, {"sim.growth": 1.0})
        with pytest.raises(UnsafePathError):
            draft_path(user, name)
    assert not (user.state / "drafts").exists() or not any((user.state / "drafts").iterdir())


@pytest.mark.parametrize(("text", "key"), [
    ("[draft]\npreset = \"p\"\nsaved_at = 2025-05-06T21:14:03+00:00\n[params]\n\"sim.growth\" = \"fast\"\n",
     "params.sim.growth"),
    ("[draft]\npreset = \"p\"\nsaved_at = 2025-05-06T21:14:03+00:00\n[params]\n\"sim.nothing\" = 1\n",
     "params.sim.nothing"),
    ("[draft]\npreset = \"other\"\nsaved_at = 2025-05-06T21:14:03+00:00\n", "draft.preset"),
    ("[draft]\npreset = \"p\"\nsaved_at = \"yesterday\"\n", "draft.saved_at"),
    ("[draft]\npreset = \"p\"\nsaved_at = 2025-05-06T21:14:03+00:00\n[params]\n\"render.blackout\" = 1.0\n",
     "params.render.blackout"),
    ("[draft]\npreset = \"p\"\nsaved_at = 2025-05-06T21:14", ""),  # cut off mid-write by a full disk
    ("\x00\x01\x02 not toml", ""),
])
def test_a_broken_draft_is_a_load_error_naming_file_line_and_key(user: UserDirs, text: str, key: str) -> None:
    path = draft_path(user, "p")
    path.parent.mkdir(parents=True)
    path.write_text(text)
    with pytest.raises(LoadError) as caught:
        read_draft(user, "p", SPECS)
    message = str(caught.value)
    assert message.startswith(f"{path}:"), message
    assert key in message
    aside = set_aside(user, "p", now=time.mktime((2025, 5, 6, 21, 14, 3, 0, 0, -1)))
    assert aside is not None and aside.name == "p.toml.broken-20250506-211403" and aside.read_text() == text
    assert read_draft(user, "p", SPECS) is None, "a draft set aside is never offered again"
    assert set_aside(user, "p") is None


def test_only_edits_that_differ_from_the_preset_are_kept() -> None:
    preset = {"sim.growth": 0.5, "render.agents": 1000, "render.tint": (0.0, 0.0, 0.0)}
    edits = {"sim.growth": 0.5, "render.agents": 1200.0, "render.tint": "#000000", "render.blackout": 1.0,
             "synth.scale": "minor"}
    assert changed_values(preset, edits, SPECS) == {"render.agents": 1200, "synth.scale": "minor"}
    assert changed_values(preset, {"sim.growth": 0.5}, SPECS) == {}


def test_when_says_the_time_today_and_the_day_otherwise() -> None:
    evening = time.mktime((2025, 5, 6, 21, 14, 3, 0, 0, -1))
    assert when_text(evening, now=evening + 60) == "21:14"
    assert when_text(evening, now=evening + 2 * 86400) == "6 May 21:14"
