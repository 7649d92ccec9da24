"""Presets: a seed, a look and parameter values, in a human-readable TOML file.

```toml
[preset]
title = "The living city"
seed = "kai-city"        # a file in seeds/
look = "festival"         # a look in shaders/looks/
description = "..."

[params]
"sim.growth_rate" = 0.6   # full parameter names; nested tables (sim.growth_rate = 0.6) work too
"render.palette" = "night"

[midi]                    # optional overrides of the controller profile's bindings

[[modulation]]            # optional routings: a source moving a parameter (installation.core.modulation)
source = "lfo"
target = "render.exposure"
depth = 0.1

[[effect]]                # optional ISF effects over the picture, in order (installation.core.effects)
file = "spore-haze"
params = { amount = 0.4 }
```

Loading reports every problem as ``file:line: key: reason`` and returns nothing on error.
Saving from the app edits the artist's file in place with tomlkit (comments and layout
survive), atomically, with rotating backups.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import Table

from installation.core.commands import LIVE_PARAMS
from installation.core.effects import OWNER, EffectEntry, parse_effects, render_effects
from installation.core.errors import LoadError, Problem
from installation.core.modulation import Routing, parse_routings, render_routings
from installation.core.params import NAME_PATTERN, Kind, ParamSpec, Value, color_hex
from installation.core.paths import SAFE_NAME, UserDirs, inside, preset_search_path, safe_name
from installation.core.textfile import read_text
from installation.core.tomlsource import Checker, TomlSource, atomic_write, parse_document

PRESET_TABLES = {"preset", "params", "midi", "modulation", "effect"}
PRESET_KEYS = {"title", "seed", "look", "description", "tags"}
LOOK_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    seed: str
    look: str
    params: Mapping[str, object]
    description: str = ""
    tags: tuple[str, ...] = ()
    midi: Mapping[str, Any] = field(default_factory=dict)
    modulation: tuple[Routing, ...] = ()
    effects: tuple[EffectEntry, ...] = ()
    path: Path | None = field(default=None, compare=False)

    def resolved(self, specs: Mapping[str, ParamSpec]) -> dict[str, Value]:
        """Every known parameter's value under this preset (defaults where it says nothing), but
        the live state of commands (:data:`~installation.core.commands.LIVE_PARAMS`)."""
        values = {name: spec.default for name, spec in specs.items() if name not in LIVE_PARAMS}
        for name, raw in self.params.items():
            spec = specs.get(name)
            if spec is not None:
                try:
                    values[name] = spec.coerce(raw)[0]
                except ValueError:
                    continue
        return values

    def with_params(self, updates: Mapping[str, object]) -> Preset:
        """This preset with ``updates`` (edits of live state are not the preset's, and left out)."""
        merged = dict(self.params)
        merged.update({name: value for name, value in updates.items()
                       if name not in LIVE_PARAMS and not name.startswith(f"{OWNER}.")})
        effects = []
        for entry in self.effects:  # an effect's inputs are kept in its [[effect]] table
            prefix = f"{OWNER}.{entry.name}."
            inputs = {name[len(prefix):]: value for name, value in updates.items() if name.startswith(prefix)}
            effects.append(replace(entry, params={**entry.params, **inputs}) if inputs else entry)
        return replace(self, params=merged, effects=tuple(effects))


def flatten_params(table: Mapping[str, Any], prefix: str = "") -> dict[str, object]:
    """``{"sim": {"growth_rate": 1}}`` and ``{"sim.growth_rate": 1}`` both give the dotted name."""
    flat: dict[str, object] = {}
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            flat.update(flatten_params(value, name))
        else:
            flat[name] = value
    return flat


def check_param_values(source: TomlSource | None, path: Path, params: Mapping[str, object],
                       specs: Mapping[str, ParamSpec], table: str = "params") -> list[Problem]:
    """Problems with parameter values against the registered specs (unknown, wrong type, range)."""
    problems = []
    for name, raw in params.items():
        key = f"{table}.{name}"
        line = source.line_of(key) if source else 0
        spec = specs.get(name)
        if spec is None:
            problems.append(Problem(str(path), line, key, "unknown parameter"))
            continue
        try:
            _, reason = spec.coerce(raw)
        except ValueError as error:
            problems.append(Problem(str(path), line, key, str(error)))
            continue
        if reason:
            problems.append(Problem(str(path), line, key, reason.replace(", clamped", "")))
    return problems


def parse_preset(source: TomlSource, specs: Mapping[str, ParamSpec] | None = None) -> Preset:
    """Build a preset from parsed TOML; with ``specs``, also check every parameter value."""
    checker = Checker(source)
    data = source.data
    checker.unknown_keys(data, PRESET_TABLES, "")
    meta = checker.table(data, "preset", "preset")
    checker.unknown_keys(meta, PRESET_KEYS, "preset")
    params_table = checker.table(data, "params", "params", required=False)
    params = flatten_params(params_table)
    for name in params:
        if not NAME_PATTERN.match(name):
            checker.fail(f"params.{name}", "not a parameter name (expected e.g. sim.growth_rate)")
        elif name in LIVE_PARAMS:
            checker.fail(f"params.{name}", "is live state, set by its command; presets do not store it")
        elif name.startswith(f"{OWNER}."):
            checker.fail(f"params.{name}", "an ISF effect's inputs go in the params of its [[effect]] table")
    tags = meta.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        checker.fail("preset.tags", "must be a list of strings")
        tags = []
    midi = checker.table(data, "midi", "midi", required=False)
    modulation = parse_routings(checker, data, specs, LIVE_PARAMS)
    preset = Preset(
        name=source.path.stem,
        title=checker.string(meta, "title", "preset.title", source.path.stem),
        seed=checker.string(meta, "seed", "preset.seed", pattern=SAFE_NAME),
        look=checker.string(meta, "look", "preset.look", pattern=LOOK_NAME),
        params=params,
        description=checker.string(meta, "description", "preset.description", ""),
        tags=tuple(tags),
        midi=midi,
        modulation=modulation,
        effects=parse_effects(checker, data),
        path=source.path,
    )
    if specs is not None:
        checker.problems.extend(check_param_values(source, source.path, params, specs))
    checker.raise_if_any()
    return preset


def load_preset(path: Path, specs: Mapping[str, ParamSpec] | None = None) -> Preset:
    return parse_preset(TomlSource.read(path), specs)


def _toml_value(spec: ParamSpec | None, value: object) -> object:
    """A parameter value as the artist would write it (colors as '#rrggbb')."""
    if spec is not None and spec.kind is Kind.COLOR and isinstance(value, (tuple, list)):
        try:
            return color_hex(spec.coerce(value)[0])  # type: ignore[arg-type]
        except ValueError:
            return value  # left for the read-back check to report
    if isinstance(value, float):
        return round(value, 6)
    return value


def render_preset(preset: Preset, specs: Mapping[str, ParamSpec],
                  original: tomlkit.TOMLDocument | None = None) -> str:
    """TOML text for ``preset``: edits the ``original`` document in place where given, keeping comments."""
    document = original if original is not None else tomlkit.document()
    meta = document.get("preset")
    if not isinstance(meta, Table):
        meta = tomlkit.table()
        document["preset"] = meta
    for key, value in (("title", preset.title), ("seed", preset.seed), ("look", preset.look)):
        if meta.get(key) != value:
            meta[key] = value
    if preset.description and meta.get("description") != preset.description:
        meta["description"] = preset.description
    params = document.get("params")
    if not isinstance(params, Table):
        params = tomlkit.table()
        document["params"] = params
    existing = flatten_params(params.unwrap())
    for name, raw in preset.params.items():
        new = _toml_value(specs.get(name), raw)
        if name in existing and existing[name] == new:
            continue
        _set_dotted(params, name, new, nested=name not in params and name in existing)
    for name in existing:
        if name not in preset.params:
            _delete_dotted(params, name)
    render_routings(document, preset.modulation)
    render_effects(document, preset.effects)
    return tomlkit.dumps(document)


def _set_dotted(table: Table, name: str, value: object, nested: bool) -> None:
    """Update ``name`` where the artist wrote it (quoted flat key or nested tables)."""
    if not nested:
        table[name] = value
        return
    parts = name.split(".")
    node: Any = table
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value


def _delete_dotted(table: Table, name: str) -> None:
    if name in table:
        del table[name]
        return
    parts = name.split(".")
    node: Any = table
    for part in parts[:-1]:
        if part not in node:
            return
        node = node[part]
    if parts[-1] in node:
        del node[parts[-1]]


class PresetLibrary:
    """Finds presets by name (user folder first, then shipped) and saves them safely."""

    def __init__(self, user: UserDirs | None = None, folders: list[Path] | None = None) -> None:
        self.user = user
        self.folders = folders if folders is not None else preset_search_path(user)

    def names(self) -> list[str]:
        found: set[str] = set()
        for folder in self.folders:
            if folder.is_dir():
                found.update(p.stem for p in folder.glob("*.toml") if SAFE_NAME.match(p.stem))
        return sorted(found)

    def path(self, name: str) -> Path:
        safe_name(name)
        for folder in self.folders:
            candidate = folder / f"{name}.toml"
            # exists(), not is_file(): a folder or a pipe in its place is the artist's broken copy, to be
            # reported by the loader (the show keeps its last good state), not silently the shipped one.
            if candidate.exists():
                return inside(folder, candidate)
        folders = ", ".join(map(str, self.folders))
        raise LoadError.single(f"{name}.toml", 0, "", f"preset {name!r} not found in {folders}")

    def load(self, name: str, specs: Mapping[str, ParamSpec] | None = None) -> Preset:
        return load_preset(self.path(name), specs)

    def save(self, preset: Preset, specs: Mapping[str, ParamSpec], name: str | None = None) -> Path:
        """Save into the user folder (atomic, with backups); returns the path written.

        The artist's text (from the user's copy, else the file it was loaded from) is edited in
        place so their comments survive. The name is checked, so no name can escape the folder.
        """
        if self.user is None:
            raise ValueError("saving presets needs a user folder")
        target_name = safe_name(preset.name if name is None else name)
        target = self.user.user_preset_path(target_name)
        original = None
        for candidate in (target, preset.path):
            if candidate is not None and candidate.is_file():
                original = parse_document(read_text(candidate), candidate)
                break
        text = render_preset(replace(preset, name=target_name), specs, original)
        # Never write what we could not read back.
        parse_preset(TomlSource.parse(text, target), specs)
        self.user.ensure()
        atomic_write(target, text.encode("utf-8"))
        return target


def thumbnail_file(folder: Path, library: PresetLibrary, name: str) -> Path:
    """Where the thumbnail of preset ``name`` is cached; a new file whenever the preset is saved."""
    mtime = int(library.path(name).stat().st_mtime)
    return folder / f"{name}-{mtime}.png"
