"""The venue file (pure, no GL): the shipped venues load; every mistake is reported as
``file:line: key: reason``, all at once; saving rewrites the file in place (byte for byte when
nothing changed, comments kept after an edit), atomically with backups, never over a shipped
example; names are found in the user's folder first and unsafe ones refused."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

import pytest

from installation.core import tomlsource
from installation.core.errors import LoadError
from installation.core.mapping import UNIT_QUAD, Edge, Mask, Mesh
from installation.core.paths import UnsafePathError, UserDirs, resource_dir
from installation.core.tomlsource import TomlSource, parse_document
from installation.core.venue import (
    SECTIONS,
    OutputSpec,
    Venue,
    default_venue,
    load_venue,
    parse_venue,
    render_venue,
    save_target,
    save_venue,
    venue_folders,
    venue_path,
)

SHIPPED = resource_dir("presets") / "venues"
NAMES = ("two-projectors", "wall-and-column")


def line_of(text: str, fragment: str, after: str = "") -> int:
    """The 1-based line of the first ``fragment`` (after the first ``after``) in ``text``."""
    start = text.index(after) if after else 0
    return text.count("\n", 0, text.index(fragment, start)) + 1


def problems_of(path: Path) -> list[str]:
    with pytest.raises(LoadError) as raised:
        load_venue(path)
    return [str(problem) for problem in raised.value.problems]


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


# -- loading ----------------------------------------------------------------------------------

def test_the_shipped_venues_load() -> None:
    two = load_venue(SHIPPED / "two-projectors.toml")
    assert two.name == "two-projectors" and two.canvas == (3600, 1080)
    assert [o.name for o in two.outputs] == ["left", "right"]
    left, right = two.outputs
    assert (left.screen, left.fallback, left.region) == (1, 0, (0.0, 0.0, 0.53333, 1.0))
    assert left.mapping.corners == ((0.01, 0.02), (1.0, 0.0), (1.0, 1.0), (0.0, 0.97))
    assert left.mapping.blend.right == Edge(0.125, 2.0, 2.2) and left.mapping.blend.black_lift == 0.02
    assert right.mapping.blend.left == Edge(0.125, 2.0, 2.2) and right.mapping.color.gain == (1.0, 0.98, 0.95)
    wall = load_venue(SHIPPED / "wall-and-column.toml")
    column = wall.output("column")
    assert column.mapping.mesh is not None and (column.mapping.mesh.columns, column.mapping.mesh.rows) == (3, 3)
    assert column.mapping.mesh.points[3] == (-0.03, 0.5)
    assert column.mapping.masks == (Mask(((0.37, 0.03), (0.61, 0.03), (0.69, 0.97), (0.31, 0.97)), 0.015),)
    assert wall.output("wall-left").mapping.corners == UNIT_QUAD
    assert {"venue", "output", "projector"} <= set(SECTIONS)  # each part of the room adds its own


def test_default_venue_is_side_by_side_unmapped_outputs() -> None:
    venue = default_venue(2)
    assert [o.region for o in venue.outputs] == [(0.0, 0.0, 0.5, 1.0), (0.5, 0.0, 1.0, 1.0)]
    assert all(o.mapping.corners == UNIT_QUAD and o.mapping.mesh is None for o in venue.outputs)


BROKEN = """\
# A venue with one of every mistake.
[venue]
title = 5
canvas = [1920.5, 1080]
colour = "blue"

[[output]]
name = "left"
screen = true
fallback = -1
region = [0.0, 0.0, 1.5, 1.0]
opacity = 1.0

[output.pin]
corners = [[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0]]

[output.blend]
right = { width = "wide", curve = 2.0 }
left = { width = 0.7, slope = 2 }
black_lift = 0.9

[output.color]
brightnes = 0.1
gain = [1.0, 1.0]
contrast = 5

[[output.mask]]
points = [[0.1, 0.1], [0.9, 0.1]]
feather = -0.1

[[output]]
name = "left"
screen = ""
region = [0.6, 0.0, 0.4, 1.0]

[output.pin]
corners = [[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0]]

[output.mesh]
columns = 3
rows = 2
points = [[0.0, 0.0], [0.5, 0.0], [1.0, 0.0], [0.0, 1.0], [0.5, 1.0]]

[[output.mask]]
points = [[0.1, 0.1], [0.9, 0.1], [0.5, 2.5]]
invert = "yes"

[[output]]
name = "three"
screen = 64

[output.pin]
corners = [[0.0, 0.0], [1.0, 0.0], [3.5, 1.0], [0.0, 1.0]]

[output.mesh]
columns = 1
rows = 2

[speakers]
count = 2
"""


def test_every_mistake_is_reported_at_its_line_and_key_all_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.toml", BROKEN)
    found = problems_of(path)
    second = "name = \"left\"\nscreen = \"\""
    third = 'name = "three"'
    expected = [
        # wrong types
        (line_of(BROKEN, "title = 5"), "venue.title", "must be a string, got int"),
        (line_of(BROKEN, "canvas ="), "venue.canvas", "must be whole pixels [width, height]"),
        (line_of(BROKEN, "screen = true"), "output[0].screen",
         "must be a screen's name or its index (0 is the first)"),
        (line_of(BROKEN, 'right = { width = "wide"'), "output[0].blend.right.width", "must be a number, got str"),
        (line_of(BROKEN, "gain = [1.0, 1.0]"), "output[0].color.gain", "must be a list of 3 numbers"),
        (line_of(BROKEN, 'invert = "yes"'), "output[1].mask[0].invert", "must be true or false, got str"),
        # out of range
        (line_of(BROKEN, "fallback = -1"), "output[0].fallback",
         "must be a screen's name or its index (0 is the first)"),
        (line_of(BROKEN, "region = [0.0, 0.0, 1.5"), "output[0].region", "every number must be in [0, 1]"),
        (line_of(BROKEN, "left = { width = 0.7"), "output[0].blend.left.width", "0.7 is outside [0, 0.5]"),
        (line_of(BROKEN, "black_lift = 0.9"), "output[0].blend.black_lift", "0.9 is outside [0, 0.5]"),
        (line_of(BROKEN, "contrast = 5"), "output[0].color.contrast", "5 is outside [0, 4]"),
        (line_of(BROKEN, "feather = -0.1"), "output[0].mask[0].feather", "-0.1 is outside [0, 0.5]"),
        (line_of(BROKEN, "[0.5, 2.5]"), "output[1].mask[0].points[2]", "[0.5, 2.5] is outside [-0.5, 1.5]"),
        (line_of(BROKEN, "[3.5, 1.0]"), "output[2].pin.corners[2]", "[3.5, 1] is outside [-1, 2]"),
        (line_of(BROKEN, "columns = 1"), "output[2].mesh.columns", "1 is outside [2, 33]"),
        # bad screens, an empty name and an index past any screen
        (line_of(BROKEN, 'screen = ""'), "output[1].screen", "must be a screen's name or its index (0 is the first)"),
        (line_of(BROKEN, "screen = 64"), "output[2].screen", "must be a screen's name or its index (0 is the first)"),
        # corners crossed (a bow-tie) and in the wrong order (counter-clockwise)
        (line_of(BROKEN, "corners = [[0.0, 0.0], [1.0, 1.0]"), "output[0].pin.corners",
         "the four corners must make a convex quad, in the order top-left, top-right, bottom-right, bottom-left"),
        (line_of(BROKEN, "corners = [[0.0, 0.0], [0.0, 1.0]"), "output[1].pin.corners",
         "the four corners must make a convex quad, in the order top-left, top-right, bottom-right, bottom-left"),
        (line_of(BROKEN, "region = [0.6"), "output[1].region", "must be [x0, y0, x1, y1] with x0 < x1 and y0 < y1"),
        (line_of(BROKEN, "points = [[0.0, 0.0], [0.5, 0.0]"), "output[1].mesh.points",
         "has 5 points; a 3 x 2 mesh needs 6"),
        (line_of(BROKEN, "points = [[0.1, 0.1], [0.9, 0.1]]"), "output[0].mask[0].points",
         "a mask needs at least three points"),
        (line_of(BROKEN, second), "output[1].name", "another output is already called 'left'"),
        # unknown keys and an unknown top-level table
        (line_of(BROKEN, "colour ="), "venue.colour", "unknown key (expected one of: canvas, title)"),
        (line_of(BROKEN, "opacity ="), "output[0].opacity", "unknown key (expected one of: blend, color, fallback, "
         "mask, member, mesh, name, pin, region, screen)"),
        (line_of(BROKEN, "slope = 2"), "output[0].blend.left.slope", "unknown key (expected one of: curve, gamma, "
         "width)"),
        (line_of(BROKEN, "brightnes ="), "output[0].color.brightnes", "unknown key (expected one of: brightness, "
         "contrast, gain)"),
        (line_of(BROKEN, "[speakers]"), "speakers", f"unknown key (expected one of: {', '.join(sorted(SECTIONS))})"),
    ]
    wanted = {f"{path}:{line}: {key}: {reason}" for line, key, reason in expected}
    assert wanted <= set(found), "\n".join(sorted(wanted - set(found)))
    assert len(found) == len(set(found)) == len(wanted), "\n".join(sorted(set(found) - wanted))
    assert line_of(BROKEN, third) < line_of(BROKEN, "screen = 64")


@pytest.mark.parametrize(("text", "problem"), [
    ('[venue]\ntitle = "empty"\n', ":1: venue: a venue needs at least one [[output]]"),
    ('# no meta\n[[output]]\nname = "a"\n', ":1: venue: missing table [venue]"),
    ('[venue]\n\n[output]\nname = "x"\n', ":3: output: must be an array of tables ([[output]])"),
    ('venue = 3\n[[output]]\nname = "a"\n', ":1: venue: must be a table"),
    ('[venue]\n[[output]]\nname = "a/b"\n', ":3: output[0].name: 'a/b' does not match"),
    ('[venue]\n[[output]]\n[output.pin]\ncorners = [[0, 0], [1, 0], [1, 1]]\n',
     ":4: output[0].pin.corners: must be four points: top-left, top-right, bottom-right, bottom-left"),
    ('[venue]\n[[output]]\n[output.pin]\ncorners = [[0, 0], [1, 0], [1, 1], "x"]\n',
     ":4: output[0].pin.corners[3]: must be a point [x, y]"),
    ('[venue]\n[[output]]\n[output.mesh]\ncolumns = 2\nrows = 2\npoints = "none"\n',
     ":6: output[0].mesh.points: must be a list of points [[x, y], ...]"),
    ('[venue]\ncanvas = [8, 1080]\n[[output]]\n', ":2: venue.canvas: every number must be in [16, 16384]"),
    ("[venue]\n" + "[[output]]\n" * 17, r":\d+: output: more than 16 entries"),
    ('[venue]\n[[output]]\n' + '[[output.mask]]\npoints = [[0, 0], [1, 0], [1, 1]]\n' * 9,
     r":\d+: output\[0\].mask: more than 8 entries"),
    ('[venue]\n\n[[output]]\ninvalid = \n', ":4: -: invalid TOML"),
])
def test_each_file_level_mistake(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path, "venue.toml", text)
    found = problems_of(path)
    pattern = problem if problem.startswith(r":\d") else re.escape(problem)
    assert any(re.match(re.escape(str(path)) + pattern, line) for line in found), found


def test_a_missing_or_unreadable_file_is_a_load_error(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "nothing.toml")[0].startswith(f"{tmp_path / 'nothing.toml'}:0: ")
    os.mkfifo(tmp_path / "pipe.toml")
    assert problems_of(tmp_path / "pipe.toml") == [f"{tmp_path / 'pipe.toml'}:0: -: a named pipe, not a file"]


def test_mesh_without_points_is_an_identity_mesh(tmp_path: Path) -> None:
    path = write(tmp_path, "mesh.toml", '[venue]\n[[output]]\nname = "a"\n[output.mesh]\ncolumns = 4\nrows = 2\n')
    assert load_venue(path).output("a").mapping.mesh == Mesh.identity(4, 2)


# -- writing ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_rendering_an_unchanged_venue_reproduces_the_file_byte_for_byte(name: str) -> None:
    path = SHIPPED / f"{name}.toml"
    text = path.read_text()
    assert render_venue(load_venue(path), parse_document(text, path)) == text


@pytest.mark.parametrize("name", NAMES)
def test_a_venue_written_from_scratch_reads_back_equal(name: str, tmp_path: Path) -> None:
    venue = load_venue(SHIPPED / f"{name}.toml")
    text = render_venue(venue)
    assert parse_venue(TomlSource.parse(text, tmp_path / f"{name}.toml")) == venue


def edited(venue: Venue) -> Venue:
    """The first output's second corner moved, a mask added and its blend widened."""
    output = venue.outputs[0]
    mapping = output.mapping
    corners = list(mapping.corners)
    corners[1] = (0.97, 0.03)
    blend = mapping.blend.with_edge("right", replace(mapping.blend.right, width=0.2))
    mask = Mask(((0.1, 0.1), (0.5, 0.1), (0.3, 0.4)), 0.02, True)
    return venue.with_mapping(output.name, replace(mapping, corners=(corners[0], corners[1], corners[2], corners[3]),
                                                   blend=blend, masks=(*mapping.masks, mask)))


@pytest.mark.parametrize("name", NAMES)
def test_an_edit_keeps_every_comment_and_reads_back_equal(name: str, tmp_path: Path) -> None:
    path = SHIPPED / f"{name}.toml"
    text = path.read_text()
    venue = edited(load_venue(path))
    new = render_venue(venue, parse_document(text, path))
    comments = re.findall(r"#.*", text)
    assert comments and [comment for comment in comments if comment not in new] == []
    assert parse_venue(TomlSource.parse(new, path)) == venue
    assert "[0.97, 0.03]" in new and "width = 0.2," in new
    changed = {line for line in new.splitlines()} ^ {line for line in text.splitlines()}
    assert len(changed) <= 12, "only the edited values, and the new mask's table, differ"


def test_removing_masks_and_the_mesh_reads_back_equal(tmp_path: Path) -> None:
    path = SHIPPED / "wall-and-column.toml"
    venue = load_venue(path)
    two = venue.with_mapping("column", replace(venue.output("column").mapping, masks=(
        Mask(((0, 0), (1, 0), (1, 1))), Mask(((0, 0), (1, 1), (0, 1)), 0.1))))
    for changed in (two, venue.with_mapping("column", replace(venue.output("column").mapping, masks=(), mesh=None))):
        saved = save_venue(changed, tmp_path / "wall-and-column.toml")
        assert load_venue(saved) == replace(changed, path=saved)
    masks = two.output("column").mapping.masks
    one = venue.with_mapping("column", replace(two.output("column").mapping, masks=masks[1:]))
    saved = save_venue(one, tmp_path / "one.toml")
    assert load_venue(saved).output("column").mapping.masks == one.output("column").mapping.masks


def test_renamed_and_added_outputs_are_written(tmp_path: Path) -> None:
    venue = load_venue(SHIPPED / "two-projectors.toml")
    renamed = replace(venue, outputs=(replace(venue.outputs[0], name="wall left"), venue.outputs[1],
                                      OutputSpec("floor", screen="DP-2", region=(0.25, 0.0, 0.75, 1.0))))
    saved = save_venue(renamed, tmp_path / "renamed.toml")
    assert load_venue(saved) == replace(renamed, name="renamed")


def test_save_is_atomic_with_rotating_backups(tmp_path: Path) -> None:
    venue = load_venue(SHIPPED / "two-projectors.toml")
    folder = tmp_path / "venues"
    target = folder / "room.toml"
    versions = []
    for step in range(7):
        changed = venue.with_mapping("left", replace(venue.output("left").mapping, blend=replace(
            venue.output("left").mapping.blend, black_lift=step / 100)))
        assert save_venue(changed, target) == target
        versions.append(target.read_bytes())
    backups = sorted(p.name for p in folder.glob(".room.toml.*"))
    assert backups == [f".room.toml.{n}" for n in range(1, 6)]  # five kept
    for n in range(1, 6):
        assert (folder / f".room.toml.{n}").read_bytes() == versions[-1 - n]
    assert sorted(p.name for p in folder.iterdir()) == sorted(["room.toml", *backups]), "no temporary file left"


def test_a_save_that_fails_midway_leaves_the_file_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    venue = load_venue(SHIPPED / "two-projectors.toml")
    target = save_venue(venue, tmp_path / "room.toml")
    before = target.read_bytes()
    real = os.replace

    def full_disk(source: object, destination: object) -> None:
        if Path(destination) == target:  # type: ignore[arg-type]
            raise OSError(28, "No space left on device")
        real(source, destination)  # type: ignore[arg-type]

    monkeypatch.setattr(tomlsource.os, "replace", full_disk)
    with pytest.raises(OSError):
        save_venue(edited(venue), target)
    assert target.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]


def test_a_save_that_would_not_load_writes_nothing(tmp_path: Path) -> None:
    venue = load_venue(SHIPPED / "two-projectors.toml")
    target = save_venue(venue, tmp_path / "room.toml")
    before = target.read_bytes()
    crossed = venue.with_mapping("left", replace(venue.output("left").mapping,
                                                 corners=((0, 0), (1, 1), (1, 0), (0, 1))))
    with pytest.raises(LoadError, match="convex quad"):
        save_venue(crossed, target)
    assert target.read_bytes() == before and not list(tmp_path.glob(".room.toml.*"))


def test_a_shipped_venue_is_saved_as_a_copy_in_the_users_folder(myco_home: Path) -> None:
    shipped = SHIPPED / "two-projectors.toml"
    original = shipped.read_bytes()
    venue = load_venue(shipped)
    user = UserDirs.default()
    assert venue_folders() == [myco_home / "config" / "venues", SHIPPED]
    assert save_target(venue) == (myco_home / "config" / "venues" / "two-projectors.toml").resolve()
    saved = save_venue(edited(venue))
    assert saved == (user.config / "venues" / "two-projectors.toml").resolve()
    assert shipped.read_bytes() == original, "the shipped example is never written"
    text = saved.read_text()
    assert all(comment in text for comment in re.findall(r"#.*", original.decode()))
    # found by name in the user's folder first; saved again, in place with a backup
    mine = load_venue(venue_path("two-projectors"))
    assert mine.path == saved and mine == replace(edited(venue), path=saved)
    assert save_target(mine) == saved
    save_venue(mine)
    assert (saved.parent / ".two-projectors.toml.1").read_text() == text
    assert shipped.read_bytes() == original


def test_venue_path_prefers_the_users_folder_and_refuses_unsafe_names(myco_home: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert venue_path("wall-and-column") == (SHIPPED / "wall-and-column.toml").resolve()
    mine = write(myco_home / "config" / "venues", "wall-and-column.toml",
                 (SHIPPED / "wall-and-column.toml").read_text())
    assert venue_path("wall-and-column") == mine.resolve()
    explicit = write(tmp_path, "elsewhere.toml", "[venue]\n")
    assert venue_path(str(explicit)) == explicit
    for unsafe in ("../x", "../../nowhere/x", "a/b", "Caps", ".hidden", ""):
        with pytest.raises(UnsafePathError):
            venue_path(unsafe)
    with pytest.raises(LoadError, match="venue 'nowhere' not found"):
        venue_path("nowhere")
    os.symlink("/etc", myco_home / "config" / "venues" / "escape.toml")  # a link out of the folder
    with pytest.raises(UnsafePathError):
        venue_path("escape")
