"""Every mapping value over OSC (pure): each address changes the right value, and a malformed
message raises ValueError naming why, the venue unchanged."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from installation.core.mapping import MAX_MASK_POINTS, Edge, Mask, Mesh
from installation.core.paths import resource_dir
from installation.core.venue import MAX_MASKS, OutputSpec, Venue, load_venue, save_venue
from installation.core.venue_osc import (
    PATTERNS,
    SAVE_ADDRESS,
    OutputAction,
    apply_osc,
    decode_action,
    is_action_address,
    is_mapping_address,
    output_name,
)

VENUES = resource_dir("presets") / "venues"


@pytest.fixture
def venue() -> Venue:
    return load_venue(VENUES / "wall-and-column.toml")


def mapping_of(venue: Venue, name: str = "column"):  # type: ignore[no-untyped-def]
    return venue.output(name).mapping


def test_corner_and_corners(venue: Venue) -> None:
    moved = apply_osc(venue, "/myco/output/column/corner/1", [0.65, 0.05])
    assert mapping_of(moved).corners[1] == (0.65, 0.05)
    assert mapping_of(moved).corners[0] == mapping_of(venue).corners[0]
    assert moved.output("wall-left") == venue.output("wall-left")
    pinned = apply_osc(venue, "/myco/output/wall-left/corners", [0, 0, 1, 0.1, 0.9, 1, 0.05, 0.95])
    assert mapping_of(pinned, "wall-left").corners == ((0, 0), (1, 0.1), (0.9, 1), (0.05, 0.95))
    outside = apply_osc(venue, "/myco/output/wall-left/corner/2", [1.5, 1.25])  # past the raster: allowed
    assert mapping_of(outside, "wall-left").corners[2] == (1.5, 1.25)


def test_mesh_point_size_and_reset(venue: Venue) -> None:
    moved = apply_osc(venue, "/myco/output/column/mesh/1/2", [1.1, 0.45])
    mesh = mapping_of(moved).mesh
    assert mesh is not None and mesh.points[1 * 3 + 2] == (1.1, 0.45)
    resized = mapping_of(apply_osc(venue, "/myco/output/column/mesh/size", [5, 4.0])).mesh
    assert resized is not None and (resized.columns, resized.rows, len(resized.points)) == (5, 4, 20)
    assert resized == mapping_of(venue).mesh.resized(5, 4)  # type: ignore[union-attr]
    created = mapping_of(apply_osc(venue, "/myco/output/wall-left/mesh/size", [4, 3]), "wall-left").mesh
    assert created == Mesh.identity(4, 3)
    reset = mapping_of(apply_osc(venue, "/myco/output/column/mesh/reset", [])).mesh
    assert reset == Mesh.identity(3, 3)
    assert apply_osc(venue, "/myco/output/wall-left/mesh/reset", []) == venue  # no mesh: nothing to reset


def test_blend_edges_and_black_lift(venue: Venue) -> None:
    wider = mapping_of(apply_osc(venue, "/myco/output/wall-left/blend/right", [0.2]), "wall-left").blend
    assert wider.right == Edge(0.2, 2.0, 2.2)
    curved = mapping_of(apply_osc(venue, "/myco/output/wall-left/blend/top", [0.1, 3.0]), "wall-left").blend
    assert curved.top == Edge(0.1, 3.0, 2.2) and curved.right == mapping_of(venue, "wall-left").blend.right
    full = mapping_of(apply_osc(venue, "/myco/output/wall-left/blend/bottom", [0.05, 1, 2.4]), "wall-left").blend
    assert full.bottom == Edge(0.05, 1.0, 2.4)
    assert mapping_of(apply_osc(venue, "/myco/output/wall-left/blend/left", [0.5]), "wall-left").blend.left.width == 0.5
    lifted = apply_osc(venue, "/myco/output/wall-left/blend/black_lift", [0.05])
    assert mapping_of(lifted, "wall-left").blend.black_lift == 0.05


def test_masks_points_feather_invert_delete(venue: Venue) -> None:
    square = [0.2, 0.2, 0.8, 0.2, 0.8, 0.8, 0.2, 0.8]
    added = apply_osc(venue, "/myco/output/column/mask/1/points", square)  # k == count adds one
    masks = mapping_of(added).masks
    assert len(masks) == 2 and masks[1] == Mask(((0.2, 0.2), (0.8, 0.2), (0.8, 0.8), (0.2, 0.8)))
    assert masks[0] == mapping_of(venue).masks[0]
    replaced = mapping_of(apply_osc(venue, "/myco/output/column/mask/0/points", square[:6])).masks[0]
    assert replaced.points == ((0.2, 0.2), (0.8, 0.2), (0.8, 0.8)) and replaced.feather == 0.015  # feather kept
    point = mapping_of(apply_osc(venue, "/myco/output/column/mask/0/point/3", [-0.4, 1.4])).masks[0]
    assert point.points[3] == (-0.4, 1.4) and point.points[:3] == mapping_of(venue).masks[0].points[:3]
    assert mapping_of(apply_osc(venue, "/myco/output/column/mask/0/feather", [0.1])).masks[0].feather == 0.1
    inverted = apply_osc(venue, "/myco/output/column/mask/0/invert", [1])
    assert mapping_of(inverted).masks[0].invert is True
    assert mapping_of(apply_osc(inverted, "/myco/output/column/mask/0/invert", [0.0])).masks[0].invert is False
    assert mapping_of(apply_osc(venue, "/myco/output/column/mask/0/invert", [True])).masks[0].invert is True
    assert mapping_of(apply_osc(venue, "/myco/output/column/mask/0/delete", [])).masks == ()
    first = apply_osc(venue, "/myco/output/wall-left/mask/0/points", square)
    assert len(mapping_of(first, "wall-left").masks) == 1


def test_color_and_region(venue: Venue) -> None:
    color = mapping_of(apply_osc(venue, "/myco/output/column/color/brightness", [-0.25])).color
    assert color.brightness == -0.25 and color.contrast == 1.05
    assert mapping_of(apply_osc(venue, "/myco/output/column/color/contrast", [2])).color.contrast == 2.0
    assert mapping_of(apply_osc(venue, "/myco/output/column/color/gain", [1, 0.9, 4])).color.gain == (1.0, 0.9, 4.0)
    region = apply_osc(venue, "/myco/output/column/region", [0.4, 0.1, 0.6, 0.9]).output("column").region
    assert region == (0.4, 0.1, 0.6, 0.9)


def test_a_name_with_spaces_is_written_with_underscores() -> None:
    venue = Venue("v", outputs=(OutputSpec("wall left"), OutputSpec("left_wall")))
    assert output_name(venue, "wall_left") == "wall left"
    assert output_name(venue, "wall left") == "wall left"
    assert output_name(venue, "left_wall") == "left_wall"  # an exact name wins
    moved = apply_osc(venue, "/myco/output/wall_left/color/brightness", [0.1])
    assert moved.output("wall left").mapping.color.brightness == 0.1
    assert moved.output("left_wall") == venue.output("left_wall")
    twins = Venue("v", outputs=(OutputSpec("a b"), OutputSpec("a  b"), OutputSpec("a-b")))
    assert output_name(twins, "a_b") == "a b"
    twins = Venue("v", outputs=(OutputSpec("x y"), OutputSpec("x_y ")))
    with pytest.raises(ValueError, match="no output"):
        output_name(twins, "x_z")


def test_every_edit_survives_a_save_and_reads_back(venue: Venue, tmp_path: Path) -> None:
    edits: list[tuple[str, list[object]]] = [
             ("/myco/output/column/corner/0", [0.35, 0.05]), ("/myco/output/column/mesh/size", [4, 4]),
             ("/myco/output/column/mesh/2/3", [1.02, 0.7]), ("/myco/output/wall-right/blend/top", [0.1, 1.5, 2.0]),
             ("/myco/output/column/mask/1/points", [0.1, 0.1, 0.3, 0.1, 0.2, 0.3]),
             ("/myco/output/column/mask/1/invert", [1]), ("/myco/output/column/color/gain", [0.9, 1, 1.1]),
             ("/myco/output/wall-left/region", [0, 0, 0.55, 1])]
    for address, args in edits:
        venue = apply_osc(venue, address, args)
    path = save_venue(venue, tmp_path / "edited.toml")
    back = replace(load_venue(path), name=venue.name)
    mesh, saved = mapping_of(venue).mesh, mapping_of(back).mesh  # a resampled mesh is saved to 5 decimals
    assert mesh is not None and saved is not None and (saved.columns, saved.rows) == (4, 4)
    assert saved.points[11] == (1.02, 0.7)
    assert [x for p in saved.points for x in p] == pytest.approx([x for p in mesh.points for x in p], abs=1e-5)
    assert back.with_mapping("column", replace(mapping_of(back), mesh=mesh)) == venue


MALFORMED = [
    ("/myco/output/nope/corner/0", [0, 0], "no output 'nope' (outputs: wall-left, wall-right, column)"),
    ("/myco/output/column/corner/4", [0, 0], "corner 4 is out of range (0..3)"),
    ("/myco/output/column/corner/-1", [0, 0], "corner '-1' is not an index"),
    ("/myco/output/column/corner/1", [0.5], "takes 2 arguments (x y), got 1"),
    ("/myco/output/column/corner/1", [0.5, "up"], "corner 1 y must be a number, got str"),
    ("/myco/output/column/corner/1", [0.5, True], "corner 1 y must be a number, got bool"),
    ("/myco/output/column/corner/1", [float("nan"), 0.5], "corner 1 x must be finite"),
    ("/myco/output/column/corner/1", [2.5, 0.5], "corner 1 x 2.5 is outside [-1, 2]"),
    ("/myco/output/column/corner/0", [0.9, 0.9], "the corner pin would not be convex"),
    ("/myco/output/column/corners", [0, 0, 1, 1, 1, 0, 0, 1], "the corner pin would not be convex"),  # a bow-tie
    ("/myco/output/column/corners", [0, 0, 0, 1, 1, 1, 1, 0], "the corner pin would not be convex"),  # reversed
    ("/myco/output/column/corners", [0, 0, 1, 0, 1, 1], "takes 8 arguments"),
    ("/myco/output/column/mesh/3/0", [0, 0], "mesh row 3 is out of range (0..2)"),
    ("/myco/output/column/mesh/0/3", [0, 0], "mesh column 3 is out of range (0..2)"),
    ("/myco/output/wall-left/mesh/0/0", [0, 0], "this output has no mesh: send mesh/size columns rows first"),
    ("/myco/output/column/mesh/size", [1, 3], "columns 1 is outside [2, 33]"),
    ("/myco/output/column/mesh/size", [3, 34], "rows 34 is outside [2, 33]"),
    ("/myco/output/column/mesh/size", [3.5, 3], "columns must be a whole number, got 3.5"),
    ("/myco/output/column/mesh/reset", [1], "takes 0 arguments"),
    ("/myco/output/column/mesh", [], "expected mesh/<row>/<column> x y"),
    ("/myco/output/column/blend/middle", [0.1], "expected blend/<edge> width [curve [gamma]]"),
    ("/myco/output/column/blend/left", [0.6], "width 0.6 is outside [0, 0.5]"),
    ("/myco/output/column/blend/left", [0.1, 0.25], "curve 0.25 is outside [0.5, 8]"),
    ("/myco/output/column/blend/left", [0.1, 2, 3.5], "gamma 3.5 is outside [1, 3]"),
    ("/myco/output/column/blend/left", [], "takes 1 to 3 arguments"),
    ("/myco/output/column/blend/left", [0.1, 2, 2.2, 1], "takes 1 to 3 arguments"),
    ("/myco/output/column/blend/black_lift", [0.75], "black_lift 0.75 is outside [0, 0.5]"),
    ("/myco/output/column/mask/2/points", [0, 0, 1, 0, 1, 1], "mask 2 is out of range (0..1)"),
    ("/myco/output/column/mask/0/points", [0, 0, 1, 0], "takes 3 to 64 points"),
    ("/myco/output/column/mask/0/points", [0, 0, 1, 0, 1], "takes 3 to 64 points"),
    ("/myco/output/column/mask/0/points", [0, 0, 1, 0, 1, 1.75], "point 2 y 1.75 is outside [-0.5, 1.5]"),
    ("/myco/output/column/mask/0/point/4", [0, 0], "mask point 4 is out of range (0..3)"),
    ("/myco/output/column/mask/1/feather", [0.1], "mask 1 is out of range (0..0)"),
    ("/myco/output/wall-left/mask/0/feather", [0.1], "there is no mask yet"),
    ("/myco/output/column/mask/0/feather", [0.6], "feather 0.6 is outside [0, 0.5]"),
    ("/myco/output/column/mask/0/invert", [2], "invert 2 is outside [0, 1]"),
    ("/myco/output/column/mask/0/invert", ["yes"], "invert must be a number, got str"),
    ("/myco/output/column/mask/0/delete", [0], "takes 0 arguments"),
    ("/myco/output/column/mask/0/hide", [], "unknown mask setting 'hide'"),
    ("/myco/output/column/color/brightness", [1.5], "brightness 1.5 is outside [-1, 1]"),
    ("/myco/output/column/color/contrast", [-1], "contrast -1 is outside [0, 4]"),
    ("/myco/output/column/color/gain", [1, 1], "takes 3 arguments (r g b), got 2"),
    ("/myco/output/column/color/gain", [1, 1, 5], "blue gain 5 is outside [0, 4]"),
    ("/myco/output/column/color/hue", [0.1], "expected color/brightness v"),
    ("/myco/output/column/region", [0.6, 0, 0.4, 1], "a region needs x0 < x1 and y0 < y1"),
    ("/myco/output/column/region", [0, 0, 1.2, 1], "x1 1.2 is outside [0, 1]"),
    ("/myco/output/column/region", [0, 0, 1], "takes 4 arguments"),
    ("/myco/output/column/opacity", [1], "unknown setting 'opacity'"),
    ("/myco/output/column", [], "expected /myco/output/<name>/<setting>"),
    ("/myco/output//corner/0", [0, 0], "expected /myco/output/<name>/<setting>"),
    ("/myco/output/column/corner//0", [0, 0], "expected /myco/output/<name>/<setting>"),
    ("/myco/output/column/pattern", ["grid"], "a test pattern is an action, not a venue edit"),
    ("/myco/param/render.exposure", [1], "not an output address"),
]


@pytest.mark.parametrize(("address", "args", "reason"), MALFORMED)
def test_malformed_messages_raise_naming_why_and_leave_the_venue(venue: Venue, address: str, args: list[object],
                                                                  reason: str) -> None:
    before = load_venue(VENUES / "wall-and-column.toml")
    with pytest.raises(ValueError) as raised:
        apply_osc(venue, address, args)
    message = str(raised.value)
    assert reason in message, message
    assert message.startswith(address[:40]), "the message names the address"
    assert venue == before


def test_masks_are_capped(venue: Venue) -> None:
    square = [0.2, 0.2, 0.8, 0.2, 0.8, 0.8]
    for index in range(1, MAX_MASKS):
        venue = apply_osc(venue, f"/myco/output/column/mask/{index}/points", square)
    assert len(mapping_of(venue).masks) == MAX_MASKS
    with pytest.raises(ValueError, match=f"at most {MAX_MASKS} masks"):
        apply_osc(venue, f"/myco/output/column/mask/{MAX_MASKS}/points", square)
    many = [0.5] * (2 * MAX_MASK_POINTS + 2)
    with pytest.raises(ValueError, match="130 arguments is too many"):
        apply_osc(venue, "/myco/output/column/mask/0/points", many)
    most = apply_osc(venue, "/myco/output/column/mask/0/points", many[:2 * MAX_MASK_POINTS])
    assert len(mapping_of(most).masks[0].points) == MAX_MASK_POINTS


def test_a_hostile_address_is_cut_in_the_message(venue: Venue) -> None:
    with pytest.raises(ValueError) as raised:
        apply_osc(venue, "/myco/output/" + "x" * 10_000 + "/region", [0, 0, 1, 1])
    assert len(str(raised.value)) < 300


def test_which_addresses_are_for_the_venue() -> None:
    assert is_mapping_address("/myco/output/left/corner/1")
    assert is_mapping_address("/myco/output/left/pattern")
    assert not is_mapping_address("/myco/node/left")
    assert not is_mapping_address("/myco/outputs/left")
    assert not is_mapping_address(SAVE_ADDRESS)
    assert is_action_address(SAVE_ADDRESS) and is_action_address("/myco/output/left/pattern")
    assert not is_action_address("/myco/output/left/corner/1")
    assert not is_action_address("/myco/output/left/mask/0/pattern")


def test_actions_decode_to_output_actions(venue: Venue) -> None:
    for pattern in PATTERNS:
        assert decode_action("/myco/output/column/pattern", [pattern]) == OutputAction("column", "pattern", pattern)
    assert decode_action("/myco/output/column/corner/0", [0, 0], venue) is None  # a venue edit: apply_osc's
    assert decode_action("/myco/output/column/mask/0/pattern", ["grid"]) is None
    assert decode_action("/myco/node/n1", [0.5]) is None
    assert decode_action(SAVE_ADDRESS, []) == OutputAction(None, "save", "")
    assert decode_action(SAVE_ADDRESS, [1.0]) == OutputAction(None, "save", "")  # a button's press
    spaced = Venue("v", outputs=(OutputSpec("wall left"),))
    assert decode_action("/myco/output/wall_left/pattern", ["grid"], spaced) == OutputAction("wall left", "pattern",
                                                                                              "grid")
    unresolved = decode_action("/myco/output/wall_left/pattern", ["grid"])
    assert unresolved == OutputAction("wall_left", "pattern", "grid")
    malformed: list[tuple[str, list[object], str]] = [
            ("/myco/output/column/pattern", ["plaid"], "takes one pattern name (grid, bars, blend, white, black, off)"),
            ("/myco/output/column/pattern", [], "takes one pattern name"),
            ("/myco/output/column/pattern", [1], "takes one pattern name"),
            ("/myco/output/nope/pattern", ["grid"], "no output 'nope'"),
            (SAVE_ADDRESS, [0], "0 is a button's release"),
            (SAVE_ADDRESS, [1, 2], "takes no argument, or one number"),
            (SAVE_ADDRESS, ["now"], "must be a number")]
    for address, args, reason in malformed:
        with pytest.raises(ValueError, match=re.escape(reason)):
            decode_action(address, args, venue)
