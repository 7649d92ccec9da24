"""Editing a venue's projection mapping by hand: handles, drags, nudges, masks, undo (no Qt here).

The mapping editor (:mod:`installation.ui.mapping_editor`) shows one output at a time and its
draggable handles in that output's coordinates (0..1, y down): the four corners of the pin, the
mesh's control points seen through the pin, or the masks' points. Every change is a new whole
:class:`Venue`; undo and redo step between those snapshots. A drag is one step however many
mouse moves it has, and repeated nudges or spin-box edits of one thing merge into one step,
as a slider's drag does in the preset history (:mod:`installation.ui.editing`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Literal

from installation.core.mapping import (
    MAX_MASK_POINTS,
    Color,
    Edge,
    Mapping,
    Mask,
    Mesh,
    Point,
    Quad,
    pin_point,
    quad_problem,
    unpin_point,
)
from installation.core.venue import COORDINATE_SLACK, MASK_SLACK, MAX_MASKS, Venue

Mode = Literal["pin", "mesh", "mask"]
MODES: tuple[Mode, ...] = ("pin", "mesh", "mask")
StepKey = tuple[object, ...] | None  # edits with one key in a row merge into one undo step; None never merges
Changed = Callable[[str, Mapping], None]


def _clamp(point: Point, slack: float) -> Point:
    """Keep a dragged point where the venue file can hold it (a save must read back)."""
    return (min(1 + slack, max(-slack, point[0])), min(1 + slack, max(-slack, point[1])))


class MappingEditModel:
    """The venue being aligned, what is selected in it and the edits' history.

    ``changed(name, mapping)`` is called for every output whose mapping an edit, undo or redo
    changes, so the output can follow at once; outside changes (:meth:`replace_venue`) are not
    reported back, their sender already has them.
    """

    def __init__(self, venue: Venue, changed: Changed | None = None) -> None:
        if not venue.outputs:
            raise ValueError("a venue with no outputs has nothing to map")
        self.venue = venue
        self.changed = changed
        self.output = venue.outputs[0].name
        self.mode: Mode = "pin"
        self.selected: int | None = None  # a handle of the mode
        self.selected_mask: int | None = None
        self.draft: list[Point] = []  # the mask being drawn, click by click
        self._done: list[tuple[Venue, StepKey]] = []  # the venue before each step, and its merge key
        self._undone: list[Venue] = []
        self._saved = venue
        self._drag: tuple[Venue, Point] | None = None  # the venue when the drag began, the grab offset

    # -- what is shown ----------------------------------------------------------------------
    @property
    def mapping(self) -> Mapping:
        return self.venue.output(self.output).mapping

    @property
    def index(self) -> int:
        """The selected output's position in the venue (its output window's index)."""
        return [o.name for o in self.venue.outputs].index(self.output)

    def mesh(self) -> Mesh:
        """The mesh being edited: an identity 3 x 3 until the first point moves."""
        return self.mapping.mesh or Mesh.identity()

    def handles(self) -> list[Point]:
        """The mode's draggable points, in output coordinates."""
        mapping = self.mapping
        if self.mode == "pin":
            return list(mapping.corners)
        if self.mode == "mesh":
            return [pin_point(mapping.corners, p) for p in self.mesh().points]
        return [p for mask in mapping.masks for p in mask.points]

    def hit(self, point: Point, radius: float, size: tuple[float, float] = (1.0, 1.0)) -> int | None:
        """The handle nearest ``point`` within ``radius``, measured in a view of ``size`` pixels
        (so a wide output's handles are round targets), or None."""
        width, height = size
        best: tuple[float, int] | None = None
        for index, (x, y) in enumerate(self.handles()):
            distance = ((x - point[0]) * width) ** 2 + ((y - point[1]) * height) ** 2
            if distance <= radius * radius and (best is None or distance < best[0]):
                best = (distance, index)
        return None if best is None else best[1]

    def _mask_of(self, handle: int) -> tuple[int, int]:
        """(mask, point) of a mask-mode handle."""
        for mask_index, mask in enumerate(self.mapping.masks):
            if handle < len(mask.points):
                return mask_index, handle
            handle -= len(mask.points)
        raise IndexError("no such mask point")

    # -- selection --------------------------------------------------------------------------
    def select_output(self, name: str) -> None:
        self.venue.output(name)  # a KeyError naming the outputs if there is none
        if name != self.output:
            self.output = name
            self._deselect()

    def set_mode(self, mode: Mode) -> None:
        if mode not in MODES:
            raise ValueError(f"no mode {mode!r} (modes: {', '.join(MODES)})")
        if mode != self.mode:
            self.mode = mode
            self._deselect()

    def select(self, handle: int | None) -> None:
        if handle is not None and not 0 <= handle < len(self.handles()):
            raise IndexError(f"no handle {handle}")
        self.selected = handle
        if handle is not None and self.mode == "mask":
            self.selected_mask = self._mask_of(handle)[0]

    def _deselect(self) -> None:
        self.selected = self.selected_mask = None
        self.draft = []
        self._drag = None

    # -- moving handles ---------------------------------------------------------------------
    def _moved(self, handle: int, point: Point) -> Mapping | None:
        """The mapping with ``handle`` at ``point`` (output coordinates), or None where that
        would not be a valid mapping (a pin that is not a convex quad)."""
        mapping = self.mapping
        if self.mode == "pin":
            corners = list(mapping.corners)
            corners[handle] = _clamp(point, COORDINATE_SLACK)
            quad: Quad = (corners[0], corners[1], corners[2], corners[3])
            return None if quad_problem(quad) else replace(mapping, corners=quad)
        if self.mode == "mesh":
            # the mouse is on the output; the mesh lives in the pinned area, before the pin
            inside = _clamp(unpin_point(mapping.corners, point), COORDINATE_SLACK)
            return replace(mapping, mesh=self.mesh().moved(handle, inside))
        mask_index, point_index = self._mask_of(handle)
        mask = mapping.masks[mask_index]
        points = list(mask.points)
        points[point_index] = _clamp(point, MASK_SLACK)
        return self._with_mask(mask_index, replace(mask, points=tuple(points)))

    def begin_drag(self, handle: int, point: Point) -> None:
        """Grab ``handle`` with the mouse at ``point``; it keeps its offset from the mouse."""
        self.select(handle)
        x, y = self.handles()[handle]
        self._drag = (self.venue, (x - point[0], y - point[1]))

    def drag_to(self, point: Point) -> bool:
        """Move the grabbed handle with the mouse; False where refused (it stays at its last good place)."""
        if self._drag is None or self.selected is None:
            return False
        _, (dx, dy) = self._drag
        mapping = self._moved(self.selected, (point[0] + dx, point[1] + dy))
        if mapping is None:
            return False
        self._set_venue(self.venue.with_mapping(self.output, mapping))
        return True

    def end_drag(self) -> None:
        """One undo step for the whole drag (none if nothing moved)."""
        if self._drag is not None:
            before = self._drag[0]
            self._drag = None
            if before != self.venue:
                self._record(before, None)

    @property
    def dragging(self) -> bool:
        return self._drag is not None

    def nudge(self, dx_px: float, dy_px: float, output_size: tuple[int, int]) -> bool:
        """Move the selected handle by whole pixels of the output (``output_size`` its width,
        height); False where nothing is selected or the move is refused."""
        if self.selected is None:
            return False
        x, y = self.handles()[self.selected]
        mapping = self._moved(self.selected, (x + dx_px / output_size[0], y + dy_px / output_size[1]))
        if mapping is None:
            return False
        self._apply(mapping, ("nudge", self.output, self.mode, self.selected))
        return True

    # -- masks ------------------------------------------------------------------------------
    def add_mask_point(self, point: Point) -> bool:
        """One more corner of the mask being drawn; False once it has as many as a mask can."""
        if len(self.draft) >= MAX_MASK_POINTS:
            return False
        self.draft.append(_clamp(point, MASK_SLACK))
        return True

    def close_mask(self) -> bool:
        """Make the drawn outline a mask (one undo step); it needs three points or more."""
        if len(self.draft) < 3 or len(self.mapping.masks) >= MAX_MASKS:
            return False
        mapping = self.mapping
        self._apply(replace(mapping, masks=(*mapping.masks, Mask(tuple(self.draft)))), None)
        self.draft = []
        self.selected_mask = len(self.mapping.masks) - 1
        return True

    def cancel_mask(self) -> None:
        self.draft = []

    def _with_mask(self, index: int, mask: Mask | None) -> Mapping:
        """The mapping with mask ``index`` replaced (None: removed)."""
        masks = list(self.mapping.masks)
        if mask is None:
            del masks[index]
        else:
            masks[index] = mask
        return replace(self.mapping, masks=tuple(masks))

    def delete_mask(self) -> bool:
        if self.selected_mask is None:
            return False
        self._apply(self._with_mask(self.selected_mask, None), None)
        self.selected = self.selected_mask = None
        return True

    def toggle_invert(self) -> bool:
        if self.selected_mask is None:
            return False
        mask = self.mapping.masks[self.selected_mask]
        self._apply(self._with_mask(self.selected_mask, replace(mask, invert=not mask.invert)), None)
        return True

    def set_feather(self, feather: float) -> bool:
        if self.selected_mask is None:
            return False
        mask = self.mapping.masks[self.selected_mask]
        self._apply(self._with_mask(self.selected_mask, replace(mask, feather=feather)),
                    ("feather", self.output, self.selected_mask))
        return True

    # -- blend, colour, mesh size -----------------------------------------------------------
    def set_edge(self, name: str, **values: float) -> None:
        """Set ``width``, ``curve`` and/or ``gamma`` of the blend's edge ``name``."""
        blend = self.mapping.blend
        edge: Edge = replace(blend.edge(name), **values)
        self._apply(replace(self.mapping, blend=blend.with_edge(name, edge)),
                    ("edge", self.output, name, *sorted(values)))

    def set_black_lift(self, value: float) -> None:
        mapping = self.mapping
        self._apply(replace(mapping, blend=replace(mapping.blend, black_lift=value)), ("black_lift", self.output))

    def set_color(self, **values: object) -> None:
        """Set ``brightness``, ``contrast`` and/or ``gain`` (a tuple of three)."""
        color: Color = replace(self.mapping.color, **values)  # type: ignore[arg-type]
        self._apply(replace(self.mapping, color=color), ("color", self.output, *sorted(values)))

    def set_mesh_size(self, columns: int, rows: int) -> None:
        """Another number of control points, with the same warp (mesh points stay deselected)."""
        mesh = self.mapping.mesh
        resized = Mesh.identity(columns, rows) if mesh is None else mesh.resized(columns, rows)
        if self.mode == "mesh":
            self.selected = None
        self._apply(replace(self.mapping, mesh=resized), ("mesh_size", self.output))

    # -- history ----------------------------------------------------------------------------
    def _apply(self, mapping: Mapping, key: StepKey) -> None:
        if mapping != self.mapping:
            before = self.venue
            self._set_venue(self.venue.with_mapping(self.output, mapping))
            self._record(before, key)

    def _record(self, before: Venue, key: StepKey) -> None:
        last_key = self._done[-1][1] if self._done else None
        # an edit right after a save starts a step of its own: undoing must still reach what was saved
        if key is None or key != last_key or before is self._saved:
            self._done.append((before, key))
        self._undone.clear()

    def _set_venue(self, venue: Venue) -> None:
        previous = self.venue
        self.venue = venue
        if self.changed is not None:
            for old, new in zip(previous.outputs, venue.outputs, strict=True):
                if old.mapping != new.mapping:
                    self.changed(new.name, new.mapping)

    def undo(self) -> bool:
        if not self._done:
            return False
        before, _ = self._done.pop()
        self._undone.append(self.venue)
        self._after_history(before)
        return True

    def redo(self) -> bool:
        if not self._undone:
            return False
        after = self._undone.pop()
        self._done.append((self.venue, None))
        self._after_history(after)
        return True

    def _after_history(self, venue: Venue) -> None:
        self._drag = None
        self._set_venue(venue)
        self._keep_selection_valid()

    def _keep_selection_valid(self) -> None:
        if self.selected is not None and self.selected >= len(self.handles()):
            self.selected = None  # a mask or mesh point that the step took away
        if self.selected_mask is not None and self.selected_mask >= len(self.mapping.masks):
            self.selected_mask = None

    @property
    def can_undo(self) -> bool:
        return bool(self._done)

    @property
    def can_redo(self) -> bool:
        return bool(self._undone)

    @property
    def unsaved(self) -> bool:
        return self.venue != self._saved

    def mark_saved(self) -> None:
        self._saved = self.venue

    def replace_venue(self, venue: Venue) -> None:
        """The venue changed from outside (its file reloaded, OSC): show it, and start the
        history again from it (an undo must not put back what someone else changed). The
        selection stays if the output is still there."""
        if not venue.outputs:
            raise ValueError("a venue with no outputs has nothing to map")
        names = [o.name for o in venue.outputs]
        if self.output not in names:
            self.output = names[0]
            self._deselect()
        self.venue = self._saved = venue
        self._done.clear()
        self._undone.clear()
        self._drag = None
        self._keep_selection_valid()
