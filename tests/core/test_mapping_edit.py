"""The mapping editor's model: handles in output coordinates, drags as one undo step, nudges in
output pixels, masks drawn by clicks, refused non-convex pins, outside changes."""

from __future__ import annotations

import pytest

from installation.core.mapping import IDENTITY, Mapping, Mask, Mesh, pin_point, quad_problem
from installation.core.mapping_edit import MappingEditModel
from installation.core.venue import OutputSpec, Venue, default_venue

KEYSTONE = ((0.1, 0.0), (0.9, 0.1), (1.0, 1.0), (0.0, 0.9))


def two_outputs() -> Venue:
    venue = default_venue(2)
    return venue.with_mapping("output 2", Mapping(corners=KEYSTONE))


def test_pin_handles_are_the_corners_and_a_drag_is_one_undo_step() -> None:
    reported: list[tuple[str, Mapping]] = []
    model = MappingEditModel(two_outputs(), lambda name, mapping: reported.append((name, mapping)))
    assert model.handles() == [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
    grabbed = model.hit((0.98, 0.99), radius=50, size=(1920, 1080))
    assert grabbed == 2
    model.begin_drag(2, (0.98, 0.99))  # grabbed 2% left and 1% above the corner: the offset stays
    for step in range(1, 6):
        assert model.drag_to((0.98 - 0.02 * step, 0.99 - 0.01 * step))
    model.end_drag()
    assert model.mapping.corners[2] == pytest.approx((0.9, 0.95))
    assert len(reported) == 5 and reported[-1] == ("output 1", model.mapping)
    assert model.can_undo and model.unsaved
    assert model.undo() and model.mapping == IDENTITY and not model.unsaved
    assert reported[-1] == ("output 1", IDENTITY)
    assert model.redo() and model.mapping.corners[2] == pytest.approx((0.9, 0.95))
    assert not model.can_redo


def test_hit_measures_in_pixels_of_the_view_and_misses_far_points() -> None:
    model = MappingEditModel(default_venue(1))
    # 0.01 of a 1920-wide view is 19 px: outside a 10 px radius, though 0.01 of the height is not
    assert model.hit((0.01, 0.0), 10, (1920, 1080)) is None
    assert model.hit((0.0, 0.009), 10, (1920, 1080)) == 0
    assert model.hit((0.5, 0.5), 10, (1920, 1080)) is None


def test_a_corner_drag_that_would_fold_the_pin_is_refused_at_its_last_good_place() -> None:
    model = MappingEditModel(default_venue(1))
    model.begin_drag(0, (0.0, 0.0))
    assert model.drag_to((0.3, 0.3))
    assert not model.drag_to((1.2, 1.2))  # past the opposite corner: not a convex quad
    model.end_drag()
    assert model.mapping.corners[0] == pytest.approx((0.3, 0.3))
    assert quad_problem(model.mapping.corners) is None
    # dragged far off the raster, a corner stops where the venue file can still hold it
    model.begin_drag(1, (1.0, 0.0))
    model.drag_to((9.0, -9.0))
    model.end_drag()
    assert model.mapping.corners[1] == (2.0, -1.0)


def test_mesh_handles_are_seen_through_the_pin_and_drags_map_back_through_it() -> None:
    model = MappingEditModel(two_outputs())
    model.select_output("output 2")
    model.set_mode("mesh")
    handles = model.handles()
    assert len(handles) == 9 and model.mapping.mesh is None  # an identity 3 x 3 until one moves
    assert handles[0] == pytest.approx(KEYSTONE[0]) and handles[8] == pytest.approx(KEYSTONE[2])
    centre = handles[4]
    model.begin_drag(4, centre)
    model.drag_to((centre[0] + 0.05, centre[1]))
    model.end_drag()
    mesh = model.mapping.mesh
    assert mesh is not None and mesh.points[0] == (0.0, 0.0)
    # the point lands under the mouse on the output, not 0.05 across the pinned area
    assert pin_point(KEYSTONE, mesh.points[4]) == pytest.approx((centre[0] + 0.05, centre[1]))
    assert model.handles()[4] == pytest.approx((centre[0] + 0.05, centre[1]))


def test_nudges_move_whole_output_pixels_and_repeated_ones_are_one_step() -> None:
    model = MappingEditModel(default_venue(1))
    assert not model.nudge(1, 0, (1920, 1080))  # nothing selected
    model.select(2)
    for _ in range(3):
        assert model.nudge(-1, 0, (1920, 1080))
    assert model.nudge(0, -10, (1920, 1080))
    assert model.mapping.corners[2] == pytest.approx((1 - 3 / 1920, 1 - 10 / 1080))
    model.select(0)
    model.nudge(10, 0, (1920, 1080))
    # two steps: every nudge of handle 2 in a row, then handle 0
    assert model.undo() and model.mapping.corners[0] == (0.0, 0.0)
    assert model.mapping.corners[2] == pytest.approx((1 - 3 / 1920, 1 - 10 / 1080))
    assert model.undo() and model.mapping == IDENTITY and not model.can_undo


def test_masks_are_drawn_click_by_click_and_edited() -> None:
    model = MappingEditModel(default_venue(1))
    model.set_mode("mask")
    for point in ((0.1, 0.1), (0.4, 0.1)):
        assert model.add_mask_point(point)
    assert not model.close_mask()  # two points are no outline
    model.add_mask_point((0.4, 0.5))
    model.add_mask_point((0.1, 0.5))
    assert model.close_mask() and model.draft == []
    assert model.mapping.masks == (Mask(((0.1, 0.1), (0.4, 0.1), (0.4, 0.5), (0.1, 0.5))),)
    assert model.selected_mask == 0 and len(model.handles()) == 4
    assert model.toggle_invert() and model.mapping.masks[0].invert
    model.set_feather(0.01)
    model.set_feather(0.02)  # one step: a spin box turned twice
    assert model.mapping.masks[0].feather == 0.02
    model.begin_drag(1, (0.4, 0.1))
    model.drag_to((0.5, 0.0))
    model.end_drag()
    assert model.mapping.masks[0].points[1] == (0.5, 0.0)
    assert model.undo() and model.undo() and model.mapping.masks[0].feather == 0.0
    assert model.redo() and model.redo()
    assert model.delete_mask() and model.mapping.masks == () and model.selected_mask is None
    assert model.undo() and len(model.mapping.masks) == 1
    assert all(model.undo() for _ in range(4)) and model.mapping == IDENTITY


def test_blend_colour_and_mesh_size_setters() -> None:
    model = MappingEditModel(default_venue(1))
    model.set_edge("right", width=0.1)
    model.set_edge("right", width=0.125)
    model.set_edge("right", gamma=2.4)
    model.set_black_lift(0.02)
    model.set_color(gain=(1.0, 0.98, 0.95))
    model.set_color(brightness=0.1)
    blend = model.mapping.blend
    assert (blend.right.width, blend.right.gamma, blend.right.curve, blend.black_lift) == (0.125, 2.4, 2.0, 0.02)
    assert model.mapping.color.gain == (1.0, 0.98, 0.95) and model.mapping.color.brightness == 0.1
    model.set_mesh_size(5, 4)
    assert model.mapping.mesh == Mesh.identity(5, 4)
    steps = 0
    while model.undo():
        steps += 1
    assert steps == 6 and model.mapping == IDENTITY  # the two width edits were one step


def test_an_edit_after_a_save_is_a_step_of_its_own() -> None:
    model = MappingEditModel(default_venue(1))
    model.select(0)
    model.nudge(1, 0, (100, 100))
    model.mark_saved()
    assert not model.unsaved
    model.nudge(1, 0, (100, 100))
    assert model.unsaved
    assert model.undo() and not model.unsaved and model.mapping.corners[0] == pytest.approx((0.01, 0.0))


def test_outside_changes_are_shown_keep_the_selection_and_restart_the_history() -> None:
    reported: list[str] = []
    model = MappingEditModel(two_outputs(), lambda name, mapping: reported.append(name))
    model.select_output("output 2")
    model.select(1)
    model.nudge(5, 0, (1920, 1080))
    reported.clear()
    reloaded = two_outputs().with_mapping("output 2", Mapping(corners=((0.0, 0.0), (0.8, 0.0), (1.0, 1.0),
                                                                        (0.0, 1.0))))
    model.replace_venue(reloaded)
    assert model.venue == reloaded and model.output == "output 2" and model.selected == 1
    assert not model.can_undo and not model.unsaved and reported == []  # not echoed back to its sender
    model.replace_venue(Venue("other", outputs=(OutputSpec("solo"),)))
    assert model.output == "solo" and model.selected is None


def test_switching_output_or_mode_drops_the_selection_and_the_draft() -> None:
    model = MappingEditModel(two_outputs())
    model.set_mode("mask")
    model.add_mask_point((0.2, 0.2))
    model.select_output("output 2")
    assert model.draft == [] and model.index == 1
    with pytest.raises(KeyError):
        model.select_output("nowhere")
    with pytest.raises(ValueError):
        model.set_mode("spin")  # type: ignore[arg-type]
