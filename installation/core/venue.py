"""The venue file: the installation as built in one room, in one TOML file with one loader.

```toml
[venue]
title = "Gallery 3, north wall"
canvas = [3456, 1080]          # optional: the world's picture in pixels

[[output]]
name = "left"
screen = "HDMI-1"              # a screen's name, or its index (0 is the first)
fallback = 1                   # optional: the screen to use while `screen` is missing
region = [0.0, 0.0, 0.5625, 1.0]   # x0, y0, x1, y1 of the canvas, 0..1; regions may overlap

[output.pin]                   # corner pin: where the content's corners land, 0..1 of the output
corners = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]   # TL, TR, BR, BL

[output.mesh]                  # optional: a warp on top of the pin
columns = 3
rows = 3
points = [[0.0, 0.0], [0.5, 0.0], ...]   # rows x columns points, row by row

[output.blend]
right = { width = 0.125, curve = 2.0, gamma = 2.2 }
black_lift = 0.02

[output.color]
brightness = 0.0
contrast = 1.0
gain = [1.0, 1.0, 0.96]

[[output.mask]]
points = [[0.1, 0.0], [0.9, 0.0], [0.9, 1.0], [0.1, 1.0]]
feather = 0.02
invert = false
```

Each section of the file has one parser in :data:`SECTIONS`; later parts of the room (its
speakers, inputs, schedule, projectors, ``[cluster]``) are new entries there, read by this
same loader and checked by the same ``myco check``. Problems are reported as
``file:line: key: reason``, all at once. Saving edits the technician's file in place with
tomlkit (comments and layout survive), atomically, with rotating backups.
"""

from __future__ import annotations

import re
from collections.abc import Callable, MutableMapping
from collections.abc import Mapping as MappingType
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT

from installation.core.cluster import ClusterSpec, parse_cluster
from installation.core.errors import LoadError
from installation.core.mapping import (
    EDGES,
    IDENTITY,
    MAX_MASK_POINTS,
    MAX_MESH,
    UNIT_QUAD,
    Blend,
    Color,
    Edge,
    Mapping,
    Mask,
    Mesh,
    Point,
    Quad,
    Region,
    quad_problem,
)
from installation.core.paths import SAFE_NAME, UserDirs, inside, resource_dir, safe_name
from installation.core.projectors import ProjectorSpec, parse_projectors
from installation.core.schedule import Schedule, parse_schedule
from installation.core.speakers import AudioSetup, parse_audio
from installation.core.textfile import read_text
from installation.core.tomlsource import Checker, TomlSource, atomic_write, parse_document

MAX_OUTPUTS = 16
MAX_MASKS = 8
OUTPUT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _-]{0,31}$")
OUTPUT_KEYS = {"name", "screen", "fallback", "region", "pin", "mesh", "blend", "color", "mask", "member"}
EDGE_KEYS = {"width", "curve", "gamma"}
COORDINATE_SLACK = 1.0  # corners and mesh points may lie this far outside 0..1 (a pin past the raster's edge)
MASK_SLACK = 0.5  # mask points may lie this far outside the output


@dataclass(frozen=True)
class OutputSpec:
    """One output: where it goes, what part of the canvas it shows and how that is mapped."""

    name: str
    screen: str | int | None = None  # a screen's name or index; None: the best free screen
    fallback: str | int | None = None
    region: Region = (0.0, 0.0, 1.0, 1.0)
    mapping: Mapping = IDENTITY
    member: str | None = None  # in a cluster: the member (machine) that renders it; None: every member


@dataclass(frozen=True)
class Venue:
    name: str
    title: str = ""
    canvas: tuple[int, int] | None = None
    outputs: tuple[OutputSpec, ...] = ()
    projectors: tuple[ProjectorSpec, ...] = ()
    audio: AudioSetup | None = None  # [audio] and [[speaker]]: the sound device and the speakers
    schedule: Schedule | None = None  # [schedule]: opening hours; None: always open
    cluster: ClusterSpec | None = None  # [cluster]: the machines sharing the show (docs/cluster.md)
    path: Path | None = field(default=None, compare=False)

    @property
    def output_names(self) -> list[str]:
        return [output.name for output in self.outputs]

    def outputs_of(self, member: str | None) -> tuple[OutputSpec, ...]:
        """The outputs ``member`` renders (all of them outside a cluster)."""
        return tuple(o for o in self.outputs if member is None or o.member in (None, member))

    def output(self, name: str) -> OutputSpec:
        for output in self.outputs:
            if output.name == name:
                return output
        raise KeyError(f"no output {name!r} in venue {self.name!r} (outputs: "
                       f"{', '.join(o.name for o in self.outputs) or 'none'})")

    def with_mapping(self, name: str, mapping: Mapping) -> Venue:
        self.output(name)  # a KeyError naming the outputs if there is none
        return replace(self, outputs=tuple(replace(o, mapping=mapping) if o.name == name else o
                                           for o in self.outputs))

    def with_output(self, output: OutputSpec) -> Venue:
        return replace(self, outputs=tuple(output if o.name == output.name else o for o in self.outputs))


def split_regions(count: int) -> list[Region]:
    """Side-by-side regions for ``count`` outputs across one wide canvas (no venue file)."""
    return [(i / count, 0.0, (i + 1) / count, 1.0) for i in range(count)]


def default_venue(outputs: int = 1) -> Venue:
    """What Myco runs without a venue file: ``outputs`` unmapped outputs side by side."""
    return Venue("default", "", None, tuple(OutputSpec(f"output {i + 1}", region=region)
                                           for i, region in enumerate(split_regions(outputs))))


# -- reading ----------------------------------------------------------------------------------

class _Reader:
    """Typed reads of a venue document's values, each problem recorded at its key."""

    def __init__(self, checker: Checker) -> None:
        self.checker = checker

    def point(self, value: object, key: str, slack: float = COORDINATE_SLACK) -> Point | None:
        if (not isinstance(value, list) or len(value) != 2
                or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in value)):
            self.checker.fail(key, "must be a point [x, y]")
            return None
        x, y = float(value[0]), float(value[1])
        if not (-slack <= x <= 1 + slack and -slack <= y <= 1 + slack):
            self.checker.fail(key, f"[{x:g}, {y:g}] is outside [{-slack:g}, {1 + slack:g}]")
            return None
        return x, y

    def points(self, table: MappingType[str, Any], name: str, key: str, most: int,
               slack: float = COORDINATE_SLACK) -> list[Point] | None:
        value = table.get(name)
        if not isinstance(value, list):
            self.checker.fail(key, "missing" if value is None else "must be a list of points [[x, y], ...]")
            return None
        if len(value) > most:
            self.checker.fail(key, f"more than {most} points")
            return None
        points = [self.point(item, f"{key}[{index}]", slack) for index, item in enumerate(value)]
        return None if any(p is None for p in points) else points  # type: ignore[return-value]

    def numbers(self, table: MappingType[str, Any], name: str, key: str, count: int, default: tuple[float, ...],
                minimum: float, maximum: float) -> tuple[float, ...]:
        value = table.get(name)
        if value is None:
            return default
        if (not isinstance(value, list) or len(value) != count
                or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in value)):
            self.checker.fail(key, f"must be a list of {count} numbers")
            return default
        if not all(minimum <= x <= maximum for x in value):
            self.checker.fail(key, f"every number must be in [{minimum:g}, {maximum:g}]")
            return default
        return tuple(float(x) for x in value)

    def screen(self, table: MappingType[str, Any], name: str, key: str) -> str | int | None:
        value = table.get(name)
        if value is None or (isinstance(value, str) and value) or (
                isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 64):
            return value  # type: ignore[return-value]
        self.checker.fail(key, "must be a screen's name or its index (0 is the first)")
        return None


def _region(reader: _Reader, table: MappingType[str, Any], key: str) -> Region:
    x0, y0, x1, y1 = reader.numbers(table, "region", key, 4, (0.0, 0.0, 1.0, 1.0), 0.0, 1.0)
    if x1 <= x0 or y1 <= y0:
        reader.checker.fail(key, "must be [x0, y0, x1, y1] with x0 < x1 and y0 < y1")
        return 0.0, 0.0, 1.0, 1.0
    return x0, y0, x1, y1


def _pin(reader: _Reader, table: MappingType[str, Any], key: str) -> Quad:
    checker = reader.checker
    pin = checker.table(table, "pin", key, required=False)
    checker.unknown_keys(pin, {"corners"}, key)
    if "corners" not in pin:
        return UNIT_QUAD
    corners = reader.points(pin, "corners", f"{key}.corners", 4)
    if corners is None:
        return UNIT_QUAD
    if len(corners) != 4:
        checker.fail(f"{key}.corners", "must be four points: top-left, top-right, bottom-right, bottom-left")
        return UNIT_QUAD
    quad: Quad = (corners[0], corners[1], corners[2], corners[3])
    problem = quad_problem(quad)
    if problem:
        checker.fail(f"{key}.corners", problem)
        return UNIT_QUAD
    return quad


def _mesh(reader: _Reader, table: MappingType[str, Any], key: str) -> Mesh | None:
    checker = reader.checker
    if "mesh" not in table:
        return None
    mesh = checker.table(table, "mesh", key)
    checker.unknown_keys(mesh, {"columns", "rows", "points"}, key)
    columns = checker.integer(mesh, "columns", f"{key}.columns", None, 2, MAX_MESH)
    rows = checker.integer(mesh, "rows", f"{key}.rows", None, 2, MAX_MESH)
    if "points" not in mesh:
        return Mesh.identity(max(columns, 2), max(rows, 2))
    points = reader.points(mesh, "points", f"{key}.points", MAX_MESH * MAX_MESH)
    if points is None:
        return None
    if len(points) != columns * rows:
        checker.fail(f"{key}.points", f"has {len(points)} points; a {columns} x {rows} mesh needs {columns * rows}")
        return None
    return Mesh(columns, rows, tuple(points))


def _edge(reader: _Reader, table: MappingType[str, Any], name: str, key: str) -> Edge:
    checker = reader.checker
    value = checker.table(table, name, key, required=False)
    checker.unknown_keys(value, EDGE_KEYS, key)
    return Edge(checker.number(value, "width", f"{key}.width", 0.0, 0.0, 0.5),
                checker.number(value, "curve", f"{key}.curve", 2.0, 0.5, 8.0),
                checker.number(value, "gamma", f"{key}.gamma", 2.2, 1.0, 3.0))


def _blend(reader: _Reader, table: MappingType[str, Any], key: str) -> Blend:
    checker = reader.checker
    blend = checker.table(table, "blend", key, required=False)
    checker.unknown_keys(blend, {*EDGES, "black_lift"}, key)
    edges = {name: _edge(reader, blend, name, f"{key}.{name}") for name in EDGES}
    return Blend(**edges, black_lift=checker.number(blend, "black_lift", f"{key}.black_lift", 0.0, 0.0, 0.5))


def _color(reader: _Reader, table: MappingType[str, Any], key: str) -> Color:
    checker = reader.checker
    color = checker.table(table, "color", key, required=False)
    checker.unknown_keys(color, {"brightness", "contrast", "gain"}, key)
    gain = reader.numbers(color, "gain", f"{key}.gain", 3, (1.0, 1.0, 1.0), 0.0, 4.0)
    return Color(checker.number(color, "brightness", f"{key}.brightness", 0.0, -1.0, 1.0),
                 checker.number(color, "contrast", f"{key}.contrast", 1.0, 0.0, 4.0),
                 (gain[0], gain[1], gain[2]))


def _masks(reader: _Reader, table: MappingType[str, Any], key: str) -> tuple[Mask, ...]:
    checker = reader.checker
    masks = []
    for index, mask in enumerate(checker.tables(table, "mask", key, MAX_MASKS)):
        where = f"{key}[{index}]"
        checker.unknown_keys(mask, {"points", "feather", "invert"}, where)
        points = reader.points(mask, "points", f"{where}.points", MAX_MASK_POINTS, slack=MASK_SLACK)
        if points is not None and len(points) < 3:
            checker.fail(f"{where}.points", "a mask needs at least three points")
            points = None
        feather = checker.number(mask, "feather", f"{where}.feather", 0.0, 0.0, 0.5)
        invert = checker.boolean(mask, "invert", f"{where}.invert", False)
        if points is not None:
            masks.append(Mask(tuple(points), feather, invert))
    return tuple(masks)


def _output(reader: _Reader, table: MappingType[str, Any], key: str, index: int) -> OutputSpec:
    checker = reader.checker
    checker.unknown_keys(table, OUTPUT_KEYS, key)
    name = checker.string(table, "name", f"{key}.name", f"output {index + 1}", pattern=OUTPUT_NAME)
    mapping = Mapping(corners=_pin(reader, table, f"{key}.pin"), mesh=_mesh(reader, table, f"{key}.mesh"),
                      blend=_blend(reader, table, f"{key}.blend"), masks=_masks(reader, table, f"{key}.mask"),
                      color=_color(reader, table, f"{key}.color"))
    return OutputSpec(name, reader.screen(table, "screen", f"{key}.screen"),
                      reader.screen(table, "fallback", f"{key}.fallback"), _region(reader, table, f"{key}.region"),
                      mapping, checker.string(table, "member", f"{key}.member", "") or None)


def _parse_meta(reader: _Reader, data: MappingType[str, Any], venue: Venue) -> Venue:
    checker = reader.checker
    meta = checker.table(data, "venue", "venue")
    checker.unknown_keys(meta, {"title", "canvas"}, "venue")
    canvas = None
    if "canvas" in meta:
        width, height = reader.numbers(meta, "canvas", "venue.canvas", 2, (1920.0, 1080.0), 16, 16384)
        if width != int(width) or height != int(height):
            checker.fail("venue.canvas", "must be whole pixels [width, height]")
        canvas = (int(width), int(height))
    return replace(venue, title=checker.string(meta, "title", "venue.title", venue.name), canvas=canvas)


def _parse_outputs(reader: _Reader, data: MappingType[str, Any], venue: Venue) -> Venue:
    checker = reader.checker
    tables = checker.tables(data, "output", "output", MAX_OUTPUTS)
    if not tables and "output" not in data:
        checker.fail("venue", "a venue needs at least one [[output]]")
    outputs = tuple(_output(reader, table, f"output[{index}]", index) for index, table in enumerate(tables))
    seen: set[str] = set()
    for index, output in enumerate(outputs):
        if output.name in seen:
            checker.fail(f"output[{index}].name", f"another output is already called {output.name!r}")
        seen.add(output.name)
    return replace(venue, outputs=outputs)


def _parse_projector_section(reader: _Reader, data: MappingType[str, Any], venue: Venue) -> Venue:
    outputs = {output.name for output in venue.outputs}
    return replace(venue, projectors=parse_projectors(reader.checker, data, outputs))


def _parse_audio(reader: _Reader, data: MappingType[str, Any], venue: Venue) -> Venue:
    """[audio] and [[speaker]] together (channels are checked against the speakers)."""
    return replace(venue, audio=parse_audio(reader.checker, data))


def _parse_speakers(reader: _Reader, data: MappingType[str, Any], venue: Venue) -> Venue:
    return venue  # read with [audio] by _parse_audio


def _parse_schedule_section(reader: _Reader, data: MappingType[str, Any], venue: Venue) -> Venue:
    return replace(venue, schedule=parse_schedule(reader.checker, data))


def _parse_cluster_section(reader: _Reader, data: MappingType[str, Any], venue: Venue) -> Venue:
    """[cluster]; each output's ``member`` must name one of its members."""
    checker = reader.checker
    cluster = parse_cluster(checker, data, venue.name)
    members = {member.name for member in cluster.members} if cluster is not None else set()
    for index, output in enumerate(venue.outputs):
        if output.member is not None and output.member not in members:
            checker.fail(f"output[{index}].member", f"{output.member!r} is not a [[cluster.member]]"
                         if cluster is not None else "an output's member needs a [cluster] section")
    return replace(venue, cluster=cluster)


# One parser per top-level table, in order; a new part of the room is a new entry.
SECTIONS: dict[str, Callable[[_Reader, MappingType[str, Any], Venue], Venue]] = {
    "venue": _parse_meta,
    "output": _parse_outputs,
    "schedule": _parse_schedule_section,
    "audio": _parse_audio,
    "speaker": _parse_speakers,
    "projector": _parse_projector_section,
    "cluster": _parse_cluster_section,
}


def parse_venue(source: TomlSource) -> Venue:
    checker = Checker(source)
    checker.unknown_keys(source.data, set(SECTIONS), "")
    reader = _Reader(checker)
    venue = Venue(source.path.stem, path=source.path)
    for parse in SECTIONS.values():
        venue = parse(reader, source.data, venue)
    checker.raise_if_any()
    return venue


def load_venue(path: Path) -> Venue:
    return parse_venue(TomlSource.read(path))


# -- where venues live ------------------------------------------------------------------------

def venue_folders(user: UserDirs | None = None) -> list[Path]:
    """The user's venues (``<config>/venues``) first, then the shipped examples."""
    shipped = resource_dir("presets") / "venues"
    return [(user or UserDirs.default()).config / "venues", shipped]


def venue_path(name_or_file: str, user: UserDirs | None = None) -> Path:
    """A venue file named by its path, or by its name in the venue folders."""
    candidate = Path(name_or_file)
    if name_or_file and (candidate.suffix == ".toml" or candidate.exists()):  # "" is Path("."): no name
        return candidate
    safe_name(name_or_file)
    for folder in venue_folders(user):
        path = folder / f"{name_or_file}.toml"
        if path.exists():
            return inside(folder, path)
    folders = ", ".join(map(str, venue_folders(user)))
    raise LoadError.single(f"{name_or_file}.toml", 0, "", f"venue {name_or_file!r} not found in {folders}")


def save_target(venue: Venue, user: UserDirs | None = None) -> Path:
    """Where saving ``venue`` writes: its own file, unless that is a shipped example, which is
    copied into the user's venue folder (shipped files are never written)."""
    user = user or UserDirs.default()
    shipped = resource_dir("presets") / "venues"
    path = venue.path
    if path is not None and shipped.resolve() not in path.resolve().parents:
        return path
    name = venue.name if SAFE_NAME.match(venue.name) else "venue"
    folder = user.config / "venues"
    return inside(folder, folder / f"{name}.toml")


# -- writing ----------------------------------------------------------------------------------

def _number(value: float) -> float:
    return round(float(value), 5)


def _pairs(points: tuple[Point, ...]) -> list[list[float]]:
    return [[_number(x), _number(y)] for x, y in points]


def _set(table: Any, key: str, value: Any, default: Any = None) -> None:
    """Set ``key`` where it stands (its comment kept); a default is not written where it was
    absent, and None removes the key."""
    if value is None:
        if key in table:
            del table[key]
    elif key in table:
        if table[key] != value:
            table[key] = value
    elif value != default:
        table[key] = value


def _section(parent: Any, key: str, values: dict[str, tuple[Any, Any]], inline: bool = False) -> None:
    """Write ``values`` (key: (value, default)) into the table ``parent[key]``, creating it only
    when some value differs from its default."""
    table = parent.get(key)
    if not isinstance(table, MutableMapping):
        if all(value == default for value, default in values.values()):
            return
        table = tomlkit.inline_table() if inline else tomlkit.table()
        parent[key] = table
    for name, (value, default) in values.items():
        _set(table, name, value, default)


def _write_masks(table: Any, masks: tuple[Mask, ...]) -> None:
    """Masks in place, by position: an edited mask keeps its comments."""
    existing = table.get("mask")
    tables = list(existing) if isinstance(existing, (AoT, list)) else []
    if not masks:
        if "mask" in table:
            del table["mask"]
        return
    array = existing if isinstance(existing, AoT) else AoT([])
    while len(array) > len(masks):
        array.pop()  # tomlkit's AoT drops a whole table
    for index, mask in enumerate(masks):
        item = tables[index] if index < len(tables) else tomlkit.table()
        _set(item, "points", _pairs(mask.points))
        _set(item, "feather", _number(mask.feather), 0.0)
        _set(item, "invert", mask.invert, False)
        if index >= len(tables):
            array.append(item)
    table["mask"] = array


def _write_output(table: Any, output: OutputSpec) -> None:
    mapping = output.mapping
    _set(table, "name", output.name)
    _set(table, "screen", output.screen)
    _set(table, "fallback", output.fallback)
    _set(table, "member", output.member)
    _set(table, "region", [_number(x) for x in output.region], [0.0, 0.0, 1.0, 1.0])
    _section(table, "pin", {"corners": (_pairs(mapping.corners), _pairs(UNIT_QUAD))})
    if mapping.mesh is None:
        if "mesh" in table:
            del table["mesh"]
    else:
        mesh = mapping.mesh
        _section(table, "mesh", {"columns": (mesh.columns, None), "rows": (mesh.rows, None),
                                 "points": (_pairs(mesh.points), None)})
    blend = mapping.blend
    section = table.get("blend")
    if blend != Blend() and not isinstance(section, MutableMapping):
        section = table["blend"] = tomlkit.table()
    if isinstance(section, MutableMapping):
        for name in EDGES:
            edge = blend.edge(name)
            if edge != Edge() and not isinstance(section.get(name), MutableMapping):
                section[name] = tomlkit.inline_table()  # a new ramp is written whole
                section[name].update({key: _number(getattr(edge, key)) for key in ("width", "curve", "gamma")})
            _section(section, name, {key: (_number(getattr(edge, key)), _number(getattr(Edge(), key)))
                                     for key in ("width", "curve", "gamma")}, inline=True)
        _set(section, "black_lift", _number(blend.black_lift), 0.0)
    color = mapping.color
    _section(table, "color", {"brightness": (_number(color.brightness), 0.0),
                              "contrast": (_number(color.contrast), 1.0),
                              "gain": ([_number(g) for g in color.gain], [1.0, 1.0, 1.0])})
    _write_masks(table, mapping.masks)


def render_venue(venue: Venue, original: tomlkit.TOMLDocument | None = None) -> str:
    """TOML text for ``venue``: edits the ``original`` document in place where given, keeping
    comments and the sections this code does not write."""
    document = original if original is not None else tomlkit.document()
    if not isinstance(document.get("venue"), MutableMapping):
        document["venue"] = tomlkit.table()
    _set(document["venue"], "title", venue.title or venue.name)
    _set(document["venue"], "canvas", list(venue.canvas) if venue.canvas else None)
    existing = document.get("output")
    tables = list(existing) if isinstance(existing, AoT) else []
    names = [str(table.get("name", "")) for table in tables]
    if names == [output.name for output in venue.outputs]:
        for table, output in zip(tables, venue.outputs, strict=True):
            _write_output(table, output)  # in place: comments between outputs stay too
    else:
        by_name = dict(zip(names, tables, strict=True))
        array = AoT([])
        for output in venue.outputs:
            table = by_name.get(output.name, tomlkit.table())
            _write_output(table, output)
            array.append(table)
        document["output"] = array
    return tomlkit.dumps(document)


def save_venue(venue: Venue, path: Path | None = None) -> Path:
    """Write ``venue`` (atomically, with backups, comments kept) and return where; refuses to
    write what it could not read back."""
    target = path or save_target(venue)
    original = None
    for candidate in (target, venue.path):
        if candidate is not None and candidate.is_file():
            original = parse_document(read_text(candidate), candidate)
            break
    text = render_venue(venue, original)
    parse_venue(TomlSource.parse(text, target))
    atomic_write(target, text.encode("utf-8"))
    return target
