"""Every value of a venue's mapping over OSC, for aligning projectors from a phone or laptop.

Pure: an OSC message (address and arguments as python-osc decodes them) in, a new
:class:`~installation.core.venue.Venue` out (:func:`apply_osc`), or an app action
(:func:`decode_action`). Nothing here touches a socket, Qt or GL; the listener thread hands
the messages to the app, which applies them in the GUI thread.

Venue edits, all under ``/myco/output/<name>/`` (coordinates are fractions, as in the file):

====================================  =======================  ==================================
address (after ``/myco/output/<name>``)  arguments              range
====================================  =======================  ==================================
``/corner/<i>``                        ``x y``                  i 0..3 (TL, TR, BR, BL); -1..2
``/corners``                           ``x0 y0 x1 y1 x2 y2 x3 y3``  -1..2, a convex quad in order
``/mesh/<row>/<column>``               ``x y``                  -1..2
``/mesh/size``                         ``columns rows``         2..33 each (resampled, same warp)
``/mesh/reset``                        none                     an identity mesh of the same size
``/blend/<edge>``                      ``width [curve [gamma]]``  edge left/right/top/bottom;
                                                                width 0..0.5, curve 0.5..8,
                                                                gamma 1..3
``/blend/black_lift``                  ``v``                    0..0.5
``/mask/<k>/point/<i>``                ``x y``                  -0.5..1.5
``/mask/<k>/points``                   ``x0 y0 x1 y1 ...``      3..64 points; k = count adds one
``/mask/<k>/feather``                  ``v``                    0..0.5
``/mask/<k>/invert``                   ``0|1``
``/mask/<k>/delete``                   none
``/color/brightness``                  ``v``                    -1..1
``/color/contrast``                    ``v``                    0..4
``/color/gain``                        ``r g b``                0..4 each
``/region``                            ``x0 y0 x1 y1``          0..1, x0 < x1, y0 < y1
====================================  =======================  ==================================

The ranges are the loader's (:mod:`installation.core.venue`), so nothing sent over OSC makes
a file that would not load. An output whose name holds spaces (``"wall left"``) may be
written with ``_`` in its place (``/myco/output/wall_left/...``), since many OSC senders
refuse spaces in an address. Numbers may be ints or floats (TouchOSC sends floats); a count
or a switch must then be whole.

App actions, not venue edits (:func:`decode_action`, None for any other address):
``/myco/output/<name>/pattern NAME`` (a test pattern, one of :data:`PATTERNS`) and
``/myco/venue/save`` (no argument, or one non-zero number: a button's press). So the app does::

    action = decode_action(address, args, venue)   # ValueError: malformed
    if action is None:
        venue = apply_osc(venue, address, args)    # ValueError: malformed, venue unchanged
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from installation.core.mapping import EDGES, MAX_MASK_POINTS, MAX_MESH, Edge, Mask, Mesh, Point, Quad, quad_problem
from installation.core.venue import COORDINATE_SLACK, MASK_SLACK, MAX_MASKS, OutputSpec, Venue

OUTPUT_PREFIX = "/myco/output/"
SAVE_ADDRESS = "/myco/venue/save"
PATTERNS = ("grid", "bars", "blend", "white", "black", "off")
MAX_ARGS = 2 * MAX_MASK_POINTS
_INDEX = re.compile(r"^[0-9]{1,3}$")
_SHOWN = 80


@dataclass(frozen=True)
class OutputAction:
    """Something for the app to do: show a test pattern on an output, or save the venue.

    ``output`` is the output's name (None for a save), ``action`` is ``"pattern"`` or
    ``"save"``, ``value`` the pattern's name (empty for a save)."""

    output: str | None
    action: str
    value: str = ""


def _shown(address: str) -> str:
    return address if len(address) <= _SHOWN else address[: _SHOWN - 1] + "…"


def is_mapping_address(address: str) -> bool:
    """Whether ``address`` is for the venue's outputs (``/myco/output/...``): an edit for
    :func:`apply_osc`, or a test pattern for :func:`decode_action`. The listener hands these,
    and :data:`SAVE_ADDRESS`, to the app."""
    return isinstance(address, str) and address.startswith(OUTPUT_PREFIX)


def is_action_address(address: str) -> bool:
    """Whether ``address`` is an app action (:func:`decode_action`) rather than a venue edit."""
    return address == SAVE_ADDRESS or (is_mapping_address(address) and address.endswith("/pattern")
                                       and address.count("/") == 4)


def _parts(address: str) -> tuple[str, list[str]]:
    """``/myco/output/<name>/a/b`` -> (name, [a, b])."""
    if not is_mapping_address(address):
        raise ValueError(f"{_shown(address)}: not an output address (/myco/output/<name>/...)")
    name, *rest = address[len(OUTPUT_PREFIX):].split("/")
    if not name or not rest or not all(rest):
        raise ValueError(f"{_shown(address)}: expected /myco/output/<name>/<setting>")
    return name, rest


def output_name(venue: Venue, name: str) -> str:
    """The venue's output called ``name`` in an address: its exact name, or its name with each
    space written as ``_``. ValueError naming the outputs if there is none."""
    names = [output.name for output in venue.outputs]
    if name in names:
        return name
    matches = [candidate for candidate in names if candidate.replace(" ", "_") == name]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ValueError(f"output {name[:40]!r} is ambiguous: {', '.join(map(repr, matches))}")
    raise ValueError(f"no output {name[:40]!r} (outputs: {', '.join(names) or 'none'})")


# -- arguments --------------------------------------------------------------------------------

def _count(args: Sequence[object], expected: int | tuple[int, int], what: str) -> None:
    least, most = (expected, expected) if isinstance(expected, int) else expected
    if not least <= len(args) <= most:
        wanted = str(least) if least == most else f"{least} to {most}"
        raise ValueError(f"takes {wanted} argument{'s' if most != 1 else ''} ({what}), got {len(args)}")


def _number(value: object, name: str, minimum: float, maximum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if not minimum <= value <= maximum:
        raise ValueError(f"{name} {value:g} is outside [{minimum:g}, {maximum:g}]")
    return float(value)


def _whole(value: object, name: str, minimum: int, maximum: int) -> int:
    number = _number(value, name, minimum, maximum)
    if number != int(number):
        raise ValueError(f"{name} must be a whole number, got {number:g}")
    return int(number)


def _switch(value: object, name: str) -> bool:
    if isinstance(value, bool):
        return value
    return bool(_whole(value, name, 0, 1))


def _point(args: Sequence[object], start: int, name: str, slack: float) -> Point:
    return (_number(args[start], f"{name} x", -slack, 1 + slack),
            _number(args[start + 1], f"{name} y", -slack, 1 + slack))


def _index(text: str, count: int, name: str) -> int:
    if not _INDEX.match(text):
        raise ValueError(f"{name} {text[:20]!r} is not an index")
    index = int(text)
    if index >= count:
        raise ValueError(f"{name} {index} is out of range (0..{count - 1})" if count else f"there is no {name} yet")
    return index


# -- edits ------------------------------------------------------------------------------------

Edit = Callable[[OutputSpec, list[str], Sequence[object]], OutputSpec]


def _mapped(output: OutputSpec, **changes: Any) -> OutputSpec:
    return replace(output, mapping=replace(output.mapping, **changes))


def _pinned(output: OutputSpec, corners: Quad) -> OutputSpec:
    problem = quad_problem(corners)
    if problem:
        raise ValueError(f"the corner pin would not be convex: {problem}")
    return _mapped(output, corners=corners)


def _corner(output: OutputSpec, path: list[str], args: Sequence[object]) -> OutputSpec:
    if len(path) == 1 and path[0] == "corners":
        _count(args, 8, "x0 y0 x1 y1 x2 y2 x3 y3")
        points = [_point(args, 2 * i, f"corner {i}", COORDINATE_SLACK) for i in range(4)]
        return _pinned(output, (points[0], points[1], points[2], points[3]))
    if len(path) != 2:
        raise ValueError("expected corner/<i> x y (i 0..3: top-left, top-right, bottom-right, bottom-left)")
    index = _index(path[1], 4, "corner")
    _count(args, 2, "x y")
    corners = list(output.mapping.corners)
    corners[index] = _point(args, 0, f"corner {index}", COORDINATE_SLACK)
    return _pinned(output, (corners[0], corners[1], corners[2], corners[3]))


def _mesh(output: OutputSpec, path: list[str], args: Sequence[object]) -> OutputSpec:
    mesh = output.mapping.mesh
    if path == ["mesh", "size"]:
        _count(args, 2, "columns rows")
        columns = _whole(args[0], "columns", 2, MAX_MESH)
        rows = _whole(args[1], "rows", 2, MAX_MESH)
        resized = Mesh.identity(columns, rows) if mesh is None else mesh.resized(columns, rows)
        for index, point in enumerate(resized.points):
            if not all(-COORDINATE_SLACK <= value <= 1 + COORDINATE_SLACK for value in point):
                raise ValueError(f"resized, mesh point {index} would lie outside "
                                 f"[{-COORDINATE_SLACK:g}, {1 + COORDINATE_SLACK:g}]")
        return _mapped(output, mesh=resized)
    if path == ["mesh", "reset"]:
        _count(args, 0, "none")
        return output if mesh is None else _mapped(output, mesh=Mesh.identity(mesh.columns, mesh.rows))
    if len(path) != 3:
        raise ValueError("expected mesh/<row>/<column> x y, mesh/size columns rows or mesh/reset")
    if mesh is None:
        raise ValueError("this output has no mesh: send mesh/size columns rows first")
    row = _index(path[1], mesh.rows, "mesh row")
    column = _index(path[2], mesh.columns, "mesh column")
    _count(args, 2, "x y")
    point = _point(args, 0, f"mesh point {row}/{column}", COORDINATE_SLACK)
    return _mapped(output, mesh=mesh.moved(row * mesh.columns + column, point))


def _blend(output: OutputSpec, path: list[str], args: Sequence[object]) -> OutputSpec:
    blend = output.mapping.blend
    if len(path) != 2 or path[1] not in (*EDGES, "black_lift"):
        raise ValueError(f"expected blend/<edge> width [curve [gamma]] (edges: {', '.join(EDGES)}) "
                         "or blend/black_lift v")
    if path[1] == "black_lift":
        _count(args, 1, "v")
        return _mapped(output, blend=replace(blend, black_lift=_number(args[0], "black_lift", 0.0, 0.5)))
    old = blend.edge(path[1])
    _count(args, (1, 3), "width [curve [gamma]]")
    edge = Edge(_number(args[0], "width", 0.0, 0.5),
                _number(args[1], "curve", 0.5, 8.0) if len(args) > 1 else old.curve,
                _number(args[2], "gamma", 1.0, 3.0) if len(args) > 2 else old.gamma)
    return _mapped(output, blend=blend.with_edge(path[1], edge))


def _mask(output: OutputSpec, path: list[str], args: Sequence[object]) -> OutputSpec:
    masks = list(output.mapping.masks)
    if len(path) < 3:
        raise ValueError("expected mask/<k>/points, mask/<k>/point/<i>, mask/<k>/feather, mask/<k>/invert "
                         "or mask/<k>/delete")
    setting = path[2]
    if setting == "points" and len(path) == 3:
        if len(masks) >= MAX_MASKS and _INDEX.match(path[1]) and int(path[1]) == len(masks):
            raise ValueError(f"an output has at most {MAX_MASKS} masks")
        index = _index(path[1], len(masks) + 1, "mask")  # k == count adds a mask
        if len(args) % 2 or not 6 <= len(args) <= 2 * MAX_MASK_POINTS:
            raise ValueError(f"takes 3 to {MAX_MASK_POINTS} points as x0 y0 x1 y1 ..., got {len(args)} arguments")
        points = tuple(_point(args, 2 * i, f"point {i}", MASK_SLACK) for i in range(len(args) // 2))
        if index == len(masks):
            masks.append(Mask(points))
        else:
            masks[index] = replace(masks[index], points=points)
        return _mapped(output, masks=tuple(masks))
    index = _index(path[1], len(masks), "mask")
    mask = masks[index]
    if setting == "point" and len(path) == 4:
        point = _index(path[3], len(mask.points), "mask point")
        _count(args, 2, "x y")
        moved = list(mask.points)
        moved[point] = _point(args, 0, f"point {point}", MASK_SLACK)
        masks[index] = replace(mask, points=tuple(moved))
    elif setting == "feather" and len(path) == 3:
        _count(args, 1, "v")
        masks[index] = replace(mask, feather=_number(args[0], "feather", 0.0, 0.5))
    elif setting == "invert" and len(path) == 3:
        _count(args, 1, "0 or 1")
        masks[index] = replace(mask, invert=_switch(args[0], "invert"))
    elif setting == "delete" and len(path) == 3:
        _count(args, 0, "none")
        del masks[index]
    else:
        raise ValueError(f"unknown mask setting {'/'.join(path[2:])[:40]!r} (points, point/<i>, feather, "
                         "invert, delete)")
    return _mapped(output, masks=tuple(masks))


def _color(output: OutputSpec, path: list[str], args: Sequence[object]) -> OutputSpec:
    color = output.mapping.color
    setting = path[1] if len(path) == 2 else ""
    if setting == "brightness":
        _count(args, 1, "v")
        color = replace(color, brightness=_number(args[0], "brightness", -1.0, 1.0))
    elif setting == "contrast":
        _count(args, 1, "v")
        color = replace(color, contrast=_number(args[0], "contrast", 0.0, 4.0))
    elif setting == "gain":
        _count(args, 3, "r g b")
        color = replace(color, gain=(_number(args[0], "red gain", 0.0, 4.0), _number(args[1], "green gain", 0.0, 4.0),
                                     _number(args[2], "blue gain", 0.0, 4.0)))
    else:
        raise ValueError("expected color/brightness v, color/contrast v or color/gain r g b")
    return _mapped(output, color=color)


def _region(output: OutputSpec, path: list[str], args: Sequence[object]) -> OutputSpec:
    if len(path) != 1:
        raise ValueError("expected region x0 y0 x1 y1")
    _count(args, 4, "x0 y0 x1 y1")
    x0, y0, x1, y1 = (_number(value, name, 0.0, 1.0) for value, name in zip(args, ("x0", "y0", "x1", "y1"),
                                                                              strict=True))
    if x1 <= x0 or y1 <= y0:
        raise ValueError("a region needs x0 < x1 and y0 < y1")
    return replace(output, region=(x0, y0, x1, y1))


EDITS: dict[str, Edit] = {
    "corner": _corner,
    "corners": _corner,
    "mesh": _mesh,
    "blend": _blend,
    "mask": _mask,
    "color": _color,
    "region": _region,
}


def apply_osc(venue: Venue, address: str, args: Sequence[object]) -> Venue:
    """``venue`` with the edit an OSC message asks for; ValueError (naming the address and
    why) for anything malformed, the venue then unchanged."""
    name, path = _parts(address)
    if path == ["pattern"]:
        raise ValueError(f"{_shown(address)}: a test pattern is an action, not a venue edit (decode_action)")
    edit = EDITS.get(path[0])
    if edit is None:
        raise ValueError(f"{_shown(address)}: unknown setting {path[0][:40]!r} "
                         f"(one of: {', '.join(sorted(EDITS))}, pattern)")
    if len(args) > MAX_ARGS:
        raise ValueError(f"{_shown(address)}: {len(args)} arguments is too many")
    try:
        output = venue.output(output_name(venue, name))
        return venue.with_output(edit(output, path, list(args)))
    except ValueError as error:
        raise ValueError(f"{_shown(address)}: {error}") from None


def decode_action(address: str, args: Sequence[object], venue: Venue | None = None) -> OutputAction | None:
    """The app action an OSC message asks for, or None when ``address`` is no action (a venue
    edit, for :func:`apply_osc`); ValueError for a malformed action. With ``venue``, the
    output's name is resolved (``_`` for spaces) and must exist."""
    if not is_action_address(address):
        return None
    if address == SAVE_ADDRESS:
        if len(args) > 1:
            raise ValueError(f"{SAVE_ADDRESS}: takes no argument, or one number (a button's press)")
        if args and not _switch(args[0], "the argument"):
            raise ValueError(f"{SAVE_ADDRESS}: 0 is a button's release: send no argument, or 1, to save")
        return OutputAction(None, "save")
    name, _ = _parts(address)
    if len(args) != 1 or not isinstance(args[0], str) or args[0] not in PATTERNS:
        raise ValueError(f"{_shown(address)}: takes one pattern name ({', '.join(PATTERNS)})")
    if venue is not None:
        try:
            name = output_name(venue, name)
        except ValueError as error:
            raise ValueError(f"{_shown(address)}: {error}") from None
    return OutputAction(name, "pattern", args[0])
